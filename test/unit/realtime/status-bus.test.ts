// The status bus listens only while someone waits (src/realtime/status-bus.ts): it starts on the
// first waiter's ready(), keeps listening while waiters come and go, stops LINGER after the last one
// left, starts again for the next one, and forgets a start that failed. A fake `listen` stands for
// the LISTEN connection; the fake clock of jest drives the linger. The real connection is tested in
// test/integration/realtime.test.ts.
import { afterEach, beforeEach, describe, expect, jest, test } from "@jest/globals";
import { createStatusBus, LINGER_MS } from "../../../src/realtime/status-bus.js";

function fakeListen() {
  const calls = { started: 0, stopped: 0 };
  let feed: ((id: string) => void) | undefined;
  let lost: (() => void) | undefined;
  let fail: Error | undefined;
  const listen = async (onChange: (id: string) => void, onLost: () => void) => {
    calls.started++;
    if (fail) throw fail;
    feed = onChange;
    lost = onLost;
    return async () => {
      calls.stopped++;
      feed = undefined;
    };
  };
  return {
    listen,
    calls,
    notify: (id: string) => feed?.(id),
    lose: () => lost?.(),
    failNext: (error: Error | undefined) => (fail = error),
  };
}

/** Lets pending promise callbacks run (the fake clock does not advance them). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("status bus", () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test("does not listen before anyone waits; the first waiter's ready() starts it, once", async () => {
    const db = fakeListen();
    const bus = createStatusBus({ listen: db.listen });
    expect(db.calls.started).toBe(0);
    const seen: string[] = [];
    const off1 = bus.subscribe("chl_a", () => seen.push("a"));
    const off2 = bus.subscribe("chl_b", () => seen.push("b"));
    await Promise.all([bus.ready(), bus.ready()]);
    expect(db.calls.started).toBe(1);
    expect(bus.isListening()).toBe(true);
    db.notify("chl_a");
    db.notify("chl_other");
    expect(seen).toEqual(["a"]);
    db.lose(); // notifications may have been lost: every waiter re-reads
    expect(seen.sort()).toEqual(["a", "a", "b"]);
    off1();
    off2();
    await bus.close();
  });

  test("stops LINGER_MS after the last waiter left, not while one waits, and starts again for the next", async () => {
    const db = fakeListen();
    const bus = createStatusBus({ listen: db.listen });
    const off1 = bus.subscribe("chl_a", () => undefined);
    await bus.ready();
    const off2 = bus.subscribe("chl_b", () => undefined);
    off1();
    jest.advanceTimersByTime(LINGER_MS * 2);
    await settle();
    expect(db.calls.stopped).toBe(0); // chl_b still waits

    off2();
    jest.advanceTimersByTime(LINGER_MS - 1);
    await settle();
    expect(db.calls.stopped).toBe(0);
    // A waiter arriving within the linger keeps the same connection.
    const off3 = bus.subscribe("chl_c", () => undefined);
    await bus.ready();
    expect(db.calls.started).toBe(1);
    off3();
    jest.advanceTimersByTime(LINGER_MS);
    await settle();
    expect(db.calls.stopped).toBe(1);
    expect(bus.isListening()).toBe(false);

    const off4 = bus.subscribe("chl_d", () => undefined);
    await bus.ready();
    expect(db.calls.started).toBe(2);
    expect(bus.isListening()).toBe(true);
    off4();
    await bus.close();
    expect(db.calls.stopped).toBe(2);
  });

  test("a start that fails rejects ready() and is forgotten: the next waiter tries again", async () => {
    const db = fakeListen();
    const bus = createStatusBus({ listen: db.listen });
    db.failNext(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
    const off1 = bus.subscribe("chl_a", () => undefined);
    await expect(bus.ready()).rejects.toThrow(/ECONNREFUSED/);
    off1();
    expect(bus.isListening()).toBe(false);
    db.failNext(undefined);
    const off2 = bus.subscribe("chl_b", () => undefined);
    await bus.ready();
    expect(db.calls.started).toBe(2);
    off2();
    await bus.close();
  });

  test("after close, ready() rejects and nothing listens", async () => {
    const db = fakeListen();
    const bus = createStatusBus({ listen: db.listen });
    const off = bus.subscribe("chl_a", () => undefined);
    await bus.ready();
    await bus.close();
    expect(db.calls.stopped).toBe(1);
    await expect(bus.ready()).rejects.toThrow(/closed/);
    off();
    jest.advanceTimersByTime(LINGER_MS * 2);
    await settle();
    expect(db.calls.started).toBe(1);
  });

  test("without a listen function (tests of the services), always ready", async () => {
    const bus = createStatusBus();
    await expect(bus.ready()).resolves.toBeUndefined();
    const seen: string[] = [];
    const off = bus.subscribe("chl_a", () => seen.push("a"));
    bus.publish("chl_a");
    expect(seen).toEqual(["a"]);
    off();
  });
});
