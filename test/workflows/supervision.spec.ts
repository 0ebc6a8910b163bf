/**
 * Supervising a running campaign, and continue-as-new, on the Temporal dev server (a real server; these tests need
 * no time skipping, and the time-skipping test server mishandles children that outlive a continued-as-new parent).
 * See test/support/campaign-harness.ts for what is real and what is fake.
 */
import { cancelUpdate, pauseUpdate, progressQuery, resumeUpdate, setSeatsUpdate } from '../../workflows/definitions';
import { closeHarness, openHarness, runCampaign, startCampaign } from '../support/campaign-harness';
import { until } from '../support/wait';
import { servers } from '../support/servers';

beforeAll(() => openHarness(servers.temporalAddress), 120_000);
afterAll(() => closeHarness());

describe('campaignWorkflow on a real server', () => {
  it('continues as new with a small state on a long list and still dials each contact exactly once', async () => {
    const { h, result } = await runCampaign(
      { totalContacts: 60, aiSeats: 5, historyEventLimit: 150 },
      () => 'SUCCESS',
      {
        pageSize: 7,
      },
    );
    expect(result).toMatchObject({ status: 'COMPLETED', finished: 60 });
    expect(result.generation).toBeGreaterThanOrEqual(2);
    expect(new Set(h.dialled.map((d) => d.input.contactIndex)).size).toBe(60);
    expect(h.dialled).toHaveLength(60);
  });
});

describe('supervising a running campaign (updates)', () => {
  it('pauses (no new dial starts), resumes, and raises the seats mid-run', async () => {
    const { h, handle, done } = await startCampaign({ totalContacts: 12, aiSeats: 1 }, () => 'SUCCESS', {
      holdMs: 300,
    });
    await until(() => h.dialled.length >= 2, 'two dials', 20_000, 20);
    const paused = await handle.executeUpdate(pauseUpdate);
    expect(paused.status).toBe('PAUSED');
    // The call in progress finishes; after that, nothing new starts while paused.
    await until(
      async () => (await handle.query(progressQuery)).dialling === 0,
      'the call in progress to end',
      20_000,
      20,
    );
    const dialledWhilePaused = h.dialled.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(h.dialled.length).toBe(dialledWhilePaused);

    await expect(handle.executeUpdate(setSeatsUpdate, { args: [0] })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/seats must be/) },
    });
    const raised = await handle.executeUpdate(setSeatsUpdate, { args: [3] });
    expect(raised.seats).toBe(3);
    expect((await handle.executeUpdate(resumeUpdate)).status).toBe('RUNNING');
    const result = await done;
    expect(result).toMatchObject({ status: 'COMPLETED', finished: 12, peakDialling: 3 });
    // Never more calls at once than seats; more than the original one once raised.
    expect(h.maxConcurrent).toBeLessThanOrEqual(3);
    expect(h.maxConcurrent).toBeGreaterThan(1);
    expect(new Set(h.dialled.map((d) => d.input.contactIndex)).size).toBe(12);
  });

  it('cancels: calls in progress finish, undialled contacts are never dialled, the task ends CANCELLED', async () => {
    const { h, handle, done } = await startCampaign(
      { totalContacts: 400, aiSeats: 2, retry: { reasons: ['BUSY'], maxRetries: 3, intervalMinutes: 10 } },
      () => 'BUSY',
      { holdMs: 50 },
    );
    await until(() => h.dialled.length >= 3, 'three dials', 20_000, 20);
    await handle.executeUpdate(cancelUpdate);
    const result = await done;
    expect(result.status).toBe('CANCELLED');
    expect(h.statuses[h.statuses.length - 1]).toBe('CANCELLED');
    // Nothing is dialled after the cancel has been handled, and far from every contact was.
    expect(h.dialled.length).toBeLessThan(20);
    expect(h.admitted).toBeLessThan(400);
    await expect(handle.executeUpdate(resumeUpdate)).rejects.toThrow();
  });
});
