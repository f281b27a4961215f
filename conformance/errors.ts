// Failures that stop a conformance run before any check is judged (as opposed to a check failing).
export type ConformanceReason =
  | 'BadTarget'
  | 'BadProfile'
  | 'BadCredentials'
  | 'Unreachable'
  | 'NoSuchSystem'
  | 'HttpServer'
  | 'BadReportDir';

export class ConformanceError extends Error {
  constructor(
    readonly reason: ConformanceReason,
    message: string,
  ) {
    super(message);
    this.name = 'ConformanceError';
  }
}
