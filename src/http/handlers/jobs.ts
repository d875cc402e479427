// The job queue's admin API (docs/api.md, "Extension API"; docs/operations.md, "Job queue"): pending and failed jobs
// page by page, retry of a dead letter, deletion of either. The router has parsed the queue, page size and keys.
import { OciError } from '../../oci/errors.ts';
import type { QueueName } from '../../jobs/queue.ts';
import type { HttpContext } from '../context.ts';
import { sendEmpty, sendJson } from '../respond.ts';

/** GET /v2/_angos/jobs/list: `{"jobs":[…],"next"?}`, ascending storage key (due time). */
export async function listPendingJobs({ req, res, jobs }: HttpContext, queue: QueueName, n: number, after: string | undefined): Promise<void> {
  const page = await jobs.listPending(queue, n, after);
  sendJson(req, res, 200, { jobs: page.rows, ...(page.next !== undefined ? { next: page.next } : {}) });
}

/** GET /v2/_angos/jobs/failed: `{"failed":[…],"next"?}`. */
export async function listFailedJobs({ req, res, jobs }: HttpContext, queue: QueueName, n: number, after: string | undefined): Promise<void> {
  const page = await jobs.listFailed(queue, n, after);
  sendJson(req, res, 200, { failed: page.rows, ...(page.next !== undefined ? { next: page.next } : {}) });
}

/** POST /v2/_angos/jobs/failed?key=: the dead letter runs again now, its attempts reset. */
export async function retryJob({ res, jobs }: HttpContext, queue: QueueName, key: string): Promise<void> {
  const outcome = await jobs.retry(queue, key);
  if (outcome === 'missing') throw new OciError('NAME_UNKNOWN', `failed job '${key}' not found in queue '${queue}'`);
  if (outcome === 'unparsable') throw new OciError('UNSUPPORTED', `failed job '${key}' is unparsable and cannot be retried; delete it`);
  sendEmpty(res, 204);
}

/** DELETE /v2/_angos/jobs/{pending,failed}?key=. */
export async function deleteJob({ res, jobs }: HttpContext, queue: QueueName, state: 'pending' | 'failed', key: string): Promise<void> {
  if (!(await jobs.delete(queue, state, key))) throw new OciError('NAME_UNKNOWN', `${state} job '${key}' not found in queue '${queue}'`);
  sendEmpty(res, 204);
}
