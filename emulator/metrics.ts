// Prometheus metrics for a running fleet, served at /metrics on the Redfish listener: Redfish
// requests by method and status, IPMI packets and sessions, and the machines' power and boots.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IpmiServer } from './ipmi/server.js';
import type { Machine } from './machine/machine.js';

export interface FleetMetrics {
  registry: Registry;
  /** records one answered Redfish request */
  redfishRequest(method: string, code: number, seconds: number): void;
}

export function fleetMetrics(machines: Machine[], ipmi: () => IpmiServer[]): FleetMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'ferrite_bmc_redfish_requests_total',
    help: 'Redfish requests answered, by method and HTTP status',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ferrite_bmc_redfish_request_duration_seconds',
    help: 'Time to answer a Redfish request',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const sum = (f: (s: IpmiServer) => number) => ipmi().reduce((n, s) => n + f(s), 0);
  new Counter({
    name: 'ferrite_bmc_ipmi_packets_total',
    help: 'UDP datagrams received by the IPMI BMCs, by what became of them',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc(
        { result: 'answered' },
        sum((s) => s.stats.received - s.stats.dropped),
      );
      this.inc(
        { result: 'dropped' },
        sum((s) => s.stats.dropped),
      );
    },
  });
  new Counter({
    name: 'ferrite_bmc_ipmi_auth_failures_total',
    help: 'IPMI session attempts refused for a wrong user or password',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sum((s) => s.stats.authFailures));
    },
  });
  new Gauge({
    name: 'ferrite_bmc_ipmi_sessions',
    help: 'IPMI sessions held (active or being established)',
    registers: [registry],
    collect() {
      this.set(sum((s) => s.activeSessions));
    },
  });
  new Gauge({
    name: 'ferrite_bmc_machines',
    help: 'Machines in the fleet, by power state',
    labelNames: ['power_state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of ['On', 'Off', 'PoweringOn', 'PoweringOff'])
        this.set({ power_state: p }, machines.filter((m) => m.state.power === p).length);
    },
  });
  new Counter({
    name: 'ferrite_bmc_machine_boots_total',
    help: 'Firmware boots run by the fleet’s machines',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(machines.reduce((n, m) => n + m.state.bootCount, 0));
    },
  });
  return {
    registry,
    redfishRequest(method, code, seconds) {
      requests.inc({ method, code: String(code) });
      duration.observe(seconds);
    },
  };
}
