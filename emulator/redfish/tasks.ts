// Asynchronous operations the Redfish way: the request answers 202 with a Location naming a task
// monitor; the monitor answers 202 while the work runs and the operation's own response when it
// ends; the Task resource reports state, progress and messages.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../machine/clock.js';
import { type RfResult, type Route, V1 } from './context.js';
import { type ExtendedInfo, messageObject, RedfishError } from './errors.js';

export type TaskState = 'New' | 'Starting' | 'Running' | 'Pending' | 'Completed' | 'Exception' | 'Cancelled';

export interface Task {
  id: string;
  monitor: string;
  name: string;
  state: TaskState;
  status: 'OK' | 'Warning' | 'Critical';
  percent: number;
  start: number;
  end: number | null;
  messages: ExtendedInfo[];
  result: RfResult | null;
  /** machine uuid the task acts on, for authorization */
  system: string | null;
  payload: { uri: string; method: string; body: unknown };
  abort: AbortController;
}

export interface TaskHandle {
  task: Task;
  setState(s: TaskState): void;
  progress(pct: number): void;
  message(m: ExtendedInfo): void;
  signal: AbortSignal;
}

const TERMINAL: TaskState[] = ['Completed', 'Exception', 'Cancelled'];
const KEEP_FINISHED = 200;

export class TaskService {
  readonly tasks = new Map<string, Task>();
  private seq = 0;
  private readonly listeners = new Set<(t: Task) => void>();

  constructor(private readonly clock: Clock) {}

  onChange(fn: (t: Task) => void): void {
    this.listeners.add(fn);
  }

  private changed(t: Task): void {
    for (const l of this.listeners) l(t);
  }

  /** Starts `work`; returns the 202 response the client gets. */
  start(name: string, payload: Task['payload'], system: string | null, work: (h: TaskHandle) => Promise<RfResult>): RfResult {
    const id = String(++this.seq);
    const task: Task = {
      id,
      monitor: `${V1}/TaskService/TaskMonitors/${id}-${randomBytes(4).toString('hex')}`,
      name,
      state: 'New',
      status: 'OK',
      percent: 0,
      start: this.clock.now(),
      end: null,
      messages: [],
      result: null,
      system,
      payload,
      abort: new AbortController(),
    };
    this.tasks.set(id, task);
    this.prune();
    const h: TaskHandle = {
      task,
      signal: task.abort.signal,
      setState: (s) => {
        task.state = s;
        this.changed(task);
      },
      progress: (p) => {
        task.percent = Math.max(0, Math.min(100, Math.round(p)));
        this.changed(task);
      },
      message: (m) => {
        task.messages.push(m);
      },
    };
    queueMicrotask(() => {
      h.setState('Running');
      work(h).then(
        (r) => this.finish(task, 'Completed', 'OK', r),
        (e: unknown) => {
          if (task.abort.signal.aborted)
            return this.finish(task, 'Cancelled', 'Warning', { status: 200, body: { TaskState: 'Cancelled' } });
          const err = e instanceof RedfishError ? e : new RedfishError(500, { messageId: 'GeneralError', args: [(e as Error).message] });
          task.messages.push(...err.info);
          this.finish(task, 'Exception', 'Critical', {
            status: err.status,
            body: {
              error: { code: 'Base.1.15.0.GeneralError', message: err.message, '@Message.ExtendedInfo': err.info.map(messageObject) },
            },
          });
        },
      );
    });
    return { status: 202, headers: { Location: task.monitor }, body: this.render(task) };
  }

  private finish(t: Task, state: TaskState, st: Task['status'], r: RfResult): void {
    t.state = state;
    t.status = st;
    if (state === 'Completed') t.percent = 100;
    t.end = this.clock.now();
    t.result = r;
    this.changed(t);
  }

  private prune(): void {
    const done = [...this.tasks.values()].filter((t) => TERMINAL.includes(t.state));
    for (const t of done.slice(0, Math.max(0, done.length - KEEP_FINISHED))) this.tasks.delete(t.id);
  }

  render(t: Task): Record<string, unknown> {
    return {
      '@odata.id': `${V1}/TaskService/Tasks/${t.id}`,
      '@odata.type': '#Task.v1_7_0.Task',
      Id: t.id,
      Name: t.name,
      TaskState: t.state,
      TaskStatus: t.status,
      PercentComplete: t.percent,
      StartTime: new Date(t.start).toISOString(),
      ...(t.end !== null ? { EndTime: new Date(t.end).toISOString() } : {}),
      TaskMonitor: t.monitor,
      HidePayload: false,
      Payload: {
        TargetUri: t.payload.uri,
        HttpOperation: t.payload.method,
        JsonBody: JSON.stringify(t.payload.body ?? {}),
        HttpHeaders: [],
      },
      Messages: t.messages.map(messageObject),
    };
  }

  routes(): Route[] {
    return [
      {
        pattern: `${V1}/TaskService`,
        handlers: {
          GET: () => ({
            body: {
              '@odata.id': `${V1}/TaskService`,
              '@odata.type': '#TaskService.v1_2_0.TaskService',
              Id: 'TaskService',
              Name: 'Task Service',
              ServiceEnabled: true,
              CompletedTaskOverWritePolicy: 'Oldest',
              LifeCycleEventOnTaskStateChange: true,
              DateTime: new Date(this.clock.now()).toISOString(),
              Status: { State: 'Enabled', Health: 'OK' },
              Tasks: { '@odata.id': `${V1}/TaskService/Tasks` },
            },
          }),
        },
      },
      {
        pattern: `${V1}/TaskService/Tasks`,
        handlers: {
          GET: () => {
            const ids = [...this.tasks.keys()].map((id) => `${V1}/TaskService/Tasks/${id}`);
            return {
              body: {
                '@odata.id': `${V1}/TaskService/Tasks`,
                '@odata.type': '#TaskCollection.TaskCollection',
                Name: 'Task Collection',
                'Members@odata.count': ids.length,
                Members: ids.map((i) => ({ '@odata.id': i })),
              },
            };
          },
        },
      },
      {
        pattern: `${V1}/TaskService/Tasks/{task}`,
        handlers: {
          GET: (r) => ({ body: this.render(this.get(r.params.task)) }),
          DELETE: (r) => {
            const t = this.get(r.params.task);
            if (!TERMINAL.includes(t.state)) t.abort.abort(new Error('cancelled by client'));
            else this.tasks.delete(t.id);
            return { status: 204 };
          },
        },
      },
      {
        pattern: `${V1}/TaskService/TaskMonitors/{monitor}`,
        handlers: {
          GET: (r) => {
            const t = [...this.tasks.values()].find((x) => x.monitor.endsWith(`/${r.params.monitor}`));
            if (!t) throw new RedfishError(404, { messageId: 'ResourceMissingAtURI', args: [r.path] });
            if (!TERMINAL.includes(t.state))
              return { status: 202, headers: { Location: t.monitor, 'Retry-After': '1' }, body: this.render(t) };
            return t.result ?? { status: 204 };
          },
          DELETE: (r) => {
            const t = [...this.tasks.values()].find((x) => x.monitor.endsWith(`/${r.params.monitor}`));
            if (!t) throw new RedfishError(404, { messageId: 'ResourceMissingAtURI', args: [r.path] });
            t.abort.abort(new Error('cancelled by client'));
            return { status: 204 };
          },
        },
      },
    ];
  }

  get(id: string): Task {
    const t = this.tasks.get(id);
    if (!t) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Task', id] });
    return t;
  }
}
