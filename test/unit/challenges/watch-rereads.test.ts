// Waiters of one challenge share their re-reads after a notification (one query per change, not one
// per waiter), yet a waiter never takes a read that started before it was woken: it would miss the
// change that woke it. The repository is a fake whose reads finish when the test says so.
import { expect, test } from "@jest/globals";
import type { ChallengeRepository, ReadChallenge } from "../../../src/challenges/challenge-repository.js";
import { createChallengeService, type ChallengeServiceDeps } from "../../../src/challenges/challenge-service.js";
import type { ChallengeView } from "../../../src/challenges/challenge-view.js";
import { createStatusBus } from "../../../src/realtime/status-bus.js";
import { fixedClock } from "../../../src/shared/clock.js";
import { createHasher } from "../../../src/shared/crypto.js";

const ID = "chl_0123456789ABCDEFGHIJKL";
const TOKEN = "pt_token";
const hasher = createHasher(["unit-test-hash-key-0123456789abcdefghijkl"]);
const clock = fixedClock("2031-01-01T00:00:00.000Z");

function row(status: ReadChallenge["status"]): ReadChallenge {
  return {
    id: ID,
    appId: "app_x",
    channel: "sms_mo",
    status,
    purpose: "login",
    phoneMasked: "+33•••••••78",
    createdAt: new Date("2031-01-01T00:00:00.000Z"),
    expiresAt: new Date("2031-01-01T00:05:00.000Z"),
    verifiedAt: status === "verified" ? new Date("2031-01-01T00:01:00.000Z") : null,
    consumedAt: null,
    maxAttempts: 5,
    attempts: 0,
    pollTokenHash: hasher.token(TOKEN),
  };
}

/** findById calls wait until `finish(i, status)`. */
function fakeRepository() {
  const reads: { resolve: (r: ReadChallenge) => void }[] = [];
  const repository = {
    findById: (_id: string) => new Promise<ReadChallenge>((resolve) => reads.push({ resolve })),
  } as unknown as ChallengeRepository;
  return { repository, reads, finish: (i: number, status: ReadChallenge["status"]) => reads[i]!.resolve(row(status)) };
}

const flush = () => new Promise((r) => setImmediate(r));

function service(repository: ChallengeRepository, bus: ReturnType<typeof createStatusBus>) {
  return createChallengeService({ challenges: repository, bus, hasher, clock } as unknown as ChallengeServiceDeps);
}

test("three waiters woken by one change cost one re-read, and all three see the change", async () => {
  const fake = fakeRepository();
  const bus = createStatusBus();
  const svc = service(fake.repository, bus);
  const views: ChallengeView[][] = [[], [], []];
  const watching = views.map((v) => svc.watch(ID, { pollToken: TOKEN }, (view) => v.push(view)));
  await flush();
  [0, 1, 2].forEach((i) => fake.finish(i, "pending")); // the first reads
  await Promise.all(watching);

  bus.publish(ID);
  await flush();
  expect(fake.reads).toHaveLength(4); // one shared re-read
  fake.finish(3, "verified");
  await flush();
  expect(views.map((v) => v.map((x) => x.status))).toEqual([
    ["pending", "verified"],
    ["pending", "verified"],
    ["pending", "verified"],
  ]);
});

test("a waiter woken while a re-read is running does not take that read, which may predate the change", async () => {
  const fake = fakeRepository();
  const bus = createStatusBus();
  const svc = service(fake.repository, bus);
  const seen: string[] = [];
  const stop = svc.watch(ID, { pollToken: TOKEN }, (view) => seen.push(view.status));
  await flush();
  fake.finish(0, "pending");
  await stop;

  bus.publish(ID); // a change (say, attempts counted) — re-read 1 starts
  await flush();
  expect(fake.reads).toHaveLength(2);
  bus.publish(ID); // the verification commits while re-read 1 runs
  await flush();
  fake.finish(1, "pending"); // re-read 1 ran before the verification
  await flush();
  expect(fake.reads).toHaveLength(3); // so the second wake reads again
  fake.finish(2, "verified");
  await flush();
  expect(seen).toEqual(["pending", "verified"]);
});

test("a notification that arrives during the first read is not lost", async () => {
  const fake = fakeRepository();
  const bus = createStatusBus();
  const svc = service(fake.repository, bus);
  const seen: string[] = [];
  const watching = svc.watch(ID, { pollToken: TOKEN }, (view) => seen.push(view.status));
  await flush();
  bus.publish(ID); // committed after the first read's snapshot
  fake.finish(0, "pending");
  await watching;
  await flush();
  expect(fake.reads).toHaveLength(2);
  fake.finish(1, "verified");
  await flush();
  expect(seen).toEqual(["pending", "verified"]);
});
