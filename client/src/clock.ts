/**
 * The kiosk's estimate of the server's clock, from the `X-Server-Time` of the API's answers.
 *
 * Each answer is a sample: the server's time `s`, and the kiosk's monotonic clock just before the
 * request (`m0`) and just after the answer (`m1`). The server's time at `m1` is then between `s`
 * and `s + (m1 - m0)`: the estimate is the middle, `s + (m1 - m0) / 2`, wrong by at most half the
 * round trip. The sample kept is the one with the smallest bound, where a sample's bound grows with
 * its age by the drift a quartz clock may have (DRIFT, 100 ppm): a fresh sample with a slow round
 * trip gives way to a fast one, an old one to any recent one. Times are read from the monotonic
 * clock, so a wall clock that jumps (an NTP correction, a person setting it) moves nothing. The
 * monotonic clock restarts with the page or process: until the next answer, the recorder falls
 * back on the device wall clock plus the offset last measured (kept in storage), and says so.
 */
export interface ClockSource {
  /** The device's wall clock, ms since the epoch (Date.now). */
  wall(): number;
  /** A monotonic clock in ms (performance.now): never jumps, restarts with the page or process. */
  mono(): number;
}

/** How fast a sample's bound grows with its age (100 ppm: a poor quartz clock). */
const DRIFT = 1e-4;

const SERVER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function systemClock(): ClockSource {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return { wall: () => Date.now(), mono: perf ? () => perf.now() : () => Date.now() };
}

export class ServerClock {
  /** The kept sample: the server's time at monotonic `mono`, within `bound` ms then. */
  private anchor: { server: number; mono: number; bound: number } | null = null;

  constructor(
    private readonly source: ClockSource,
    /** server − wall, as last measured (by a previous run, through storage, until this one syncs). */
    private measured: number | null = null,
  ) {}

  /**
   * server − wall now: from the kept sample when synced (so a wall clock that jumped since shows
   * at once), else the offset last measured.
   */
  get offset(): number | null {
    const server = this.at(this.source.mono());
    return server === null ? this.measured : server - this.source.wall();
  }
  set offset(value: number | null) {
    this.measured = value;
  }

  /** Synced in this run: server times are known to within the kept sample's bound. */
  get synced(): boolean {
    return this.anchor !== null;
  }

  /** Takes a sample from an answer's X-Server-Time; true when it is valid (kept, or worse than the one kept). */
  sample(header: string | null, m0: number, m1: number): boolean {
    if (header === null || !SERVER_TIME.test(header)) return false;
    const server = Date.parse(header);
    if (!Number.isFinite(server) || m1 < m0) return false;
    const bound = (m1 - m0) / 2;
    const kept = this.anchor;
    if (!kept || kept.bound + (m1 - kept.mono) * DRIFT >= bound) this.anchor = { server: server + bound, mono: m1, bound };
    return true;
  }

  /** The server's time at monotonic instant `mono` of this run (null: not synced in this run). */
  at(mono: number): number | null {
    return this.anchor === null ? null : this.anchor.server + (mono - this.anchor.mono);
  }

  /** The server's time now: exact to the kept bound when synced, else the device's clock plus the last offset known. */
  now(): number {
    return this.at(this.source.mono()) ?? this.source.wall() + (this.measured ?? 0);
  }

  /** The kept sample's bound now (ms), null when not synced in this run. */
  bound(): number | null {
    return this.anchor === null ? null : this.anchor.bound + (this.source.mono() - this.anchor.mono) * DRIFT;
  }
}
