// Ironic's Prometheus metrics at GET /metrics (what ironic-prometheus-exporter and Ironic's own
// statistics give operators): nodes by provision state, power state and maintenance, conductor
// worker use, and API requests by method, route class and status code.
import type { Express, Request } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Conductor } from '../conductor/conductor.js';
import type { BasicAuth } from './auth.js';

/** the first path segments, so the label set stays small (no node names or UUIDs) */
function route(req: Request): string {
  const parts = req.path.split('/').filter(Boolean);
  if (parts[0] !== 'v1') return parts.length ? `/${parts[0]}` : '/';
  return `/v1/${parts[1] ?? ''}`;
}

export function mountMetrics(app: Express, conductor: Conductor, auth: BasicAuth | null | undefined): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ironic_process_' });
  const requests = new Counter({
    name: 'ironic_api_requests_total',
    help: 'API requests by method, route and status code',
    labelNames: ['method', 'route', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'ironic_api_request_duration_seconds',
    help: 'API request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const store = conductor.store;
  new Gauge({
    name: 'ironic_nodes',
    help: 'Nodes by provision state, power state and maintenance',
    labelNames: ['provision_state', 'power_state', 'maintenance'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const n of store.allNodes()) {
        const k = JSON.stringify([n.provision_state, n.power_state ?? 'None', String(Boolean(n.maintenance))]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      for (const [k, v] of counts) {
        const [provision_state, power_state, maintenance] = JSON.parse(k) as string[];
        this.set({ provision_state, power_state, maintenance }, v);
      }
    },
  });
  new Gauge({
    name: 'ironic_conductor_workers_busy',
    help: 'Conductor workers running a task',
    registers: [registry],
    collect() {
      this.set(conductor.workersBusy);
    },
  });
  // what holds the pool: a pool that runs out shows which kind of task it went to
  new Counter({
    name: 'ironic_conductor_tasks_total',
    help: 'Conductor tasks finished, by kind',
    labelNames: ['task'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [task, st] of conductor.taskStats) this.inc({ task }, st.count);
    },
  });
  new Counter({
    name: 'ironic_conductor_task_worker_seconds_total',
    help: 'Seconds conductor workers were held by finished tasks, by kind',
    labelNames: ['task'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [task, st] of conductor.taskStats) this.inc({ task }, st.seconds);
    },
  });
  new Counter({
    name: 'ironic_conductor_worker_refusals_total',
    help: 'Tasks refused because every conductor worker was busy (the API answers 503 NoFreeConductorWorker)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(conductor.refusals);
    },
  });
  new Gauge({
    name: 'ironic_conductor_workers',
    help: 'Size of the conductor worker pool',
    registers: [registry],
    collect() {
      this.set(conductor.opts.workers);
    },
  });
  app.use((req, res, next) => {
    const end = latency.startTimer({ method: req.method, route: route(req) });
    res.on('finish', () => {
      end();
      requests.inc({ method: req.method, route: route(req), code: String(res.statusCode) });
    });
    next();
  });
  app.get('/metrics', async (req, res) => {
    // behind the same Basic auth as the API when it has one
    if (auth && !auth.check(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Baremetal API"');
      res.status(401).type('text/plain').end('Unauthorized\n');
      return;
    }
    res.setHeader('Content-Type', registry.contentType);
    res.end(await registry.metrics());
  });
}
