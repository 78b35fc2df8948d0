/** One drawn session: timeline, Enter/Exit marks, segment details and dwell summary. */
import { count, dateTime, iso, time } from "./format";
import { colourFor, dwellSummary, formatDuration, type Segment, type Session, segments, sessionSpan } from "./timeline";

/** Segments narrower than this (px) show no text; their label is in the details and aria-label. */
const MIN_LABEL_PX = 64;
const MAX_ZOOM = 64;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function swatch(status: string): HTMLSpanElement {
  const node = el("span", "swatch");
  node.style.backgroundColor = colourFor(status).background;
  node.setAttribute("aria-hidden", "true");
  return node;
}

export class TimelineView {
  private session: Session | null = null;
  private segs: Segment[] = [];
  private buttons: HTMLButtonElement[] = [];
  private span = { start: 0, end: 0 };
  private focusIndex = 0;
  private pinned: number | null = null;
  private previewing: number | null = null;
  private zoom = 1;
  private trackWidth = 0;
  /** The "now" of the last draw, for redraws that do not move time (zoom, Escape). */
  private now = 0;

  private readonly summary = el("p", "summary");
  private readonly zoomOut = el("button", "", "Zoom out");
  private readonly zoomIn = el("button", "", "Zoom in");
  private readonly zoomFit = el("button", "", "Fit");
  private readonly scroller = el("div", "tl-scroll");
  private readonly inner = el("div", "tl-inner");
  private readonly marks = el("div", "tl-marks");
  private readonly track = el("div", "tl-track");
  private readonly axis = el("div", "tl-axis");
  private readonly details = el("div", "details");
  private readonly dwell = el("table", "dwell");

  constructor(
    root: HTMLElement,
    private readonly name: string,
  ) {
    const tools = el("div", "zoom-tools");
    tools.setAttribute("role", "group");
    tools.setAttribute("aria-label", `${name}: timeline zoom`);
    for (const b of [this.zoomOut, this.zoomIn, this.zoomFit]) {
      b.type = "button";
      tools.append(b);
    }
    this.zoomOut.addEventListener("click", () => this.setZoom(this.zoom / 2));
    this.zoomIn.addEventListener("click", () => this.setZoom(this.zoom * 2));
    this.zoomFit.addEventListener("click", () => this.setZoom(1));

    this.track.setAttribute("role", "toolbar");
    this.track.addEventListener("keydown", (e) => this.onKey(e));
    this.track.addEventListener("click", (e) => {
      const index = this.indexOf(e.target);
      if (index !== null) this.pin(index);
    });
    this.track.addEventListener("mouseover", (e) => {
      const index = this.indexOf(e.target);
      if (index !== null) this.preview(index);
    });
    this.track.addEventListener("mouseleave", () => this.preview(null));
    this.track.addEventListener("focusin", (e) => {
      const index = this.indexOf(e.target);
      if (index !== null) {
        this.focusIndex = index;
        this.preview(index);
      }
    });
    this.track.addEventListener("focusout", () => this.preview(null));

    this.marks.setAttribute("aria-hidden", "true");
    this.axis.setAttribute("aria-hidden", "true");
    this.inner.append(this.marks, this.track, this.axis);
    this.scroller.append(this.inner);
    this.details.setAttribute("role", "region");
    this.details.setAttribute("aria-label", `${name}: segment details`);

    const dwellWrap = el("div", "dwell-wrap");
    dwellWrap.append(this.dwell);
    root.replaceChildren(this.summary, tools, this.scroller, this.details, dwellWrap);

    new ResizeObserver(() => {
      this.trackWidth = this.track.clientWidth;
      this.layout();
    }).observe(this.scroller);
  }

  get sessionId(): string | null {
    return this.session?.session_id ?? null;
  }

  /** Draws a session from scratch (keeps focus, selection and zoom when it is the same session). */
  show(session: Session, now: number): void {
    const same = this.session?.session_id === session.session_id;
    const hadFocus = this.track.contains(document.activeElement);
    this.session = session;
    if (!same) {
      this.pinned = null;
      this.focusIndex = 0;
      this.zoom = 1;
    }
    this.segs = segments(session, now);
    this.focusIndex = Math.min(this.focusIndex, Math.max(0, this.segs.length - 1));
    if (this.pinned !== null && this.pinned >= this.segs.length) this.pinned = null;

    const fragment = document.createDocumentFragment();
    this.buttons = this.segs.map((seg) => {
      const b = el("button", "seg");
      b.type = "button";
      b.dataset.status = seg.status;
      b.dataset.index = String(seg.index);
      const colour = colourFor(seg.status);
      b.style.backgroundColor = colour.background;
      b.style.color = colour.text;
      b.append(el("span", "seg-label", seg.status), el("span", "seg-dur"));
      b.tabIndex = -1;
      fragment.append(b);
      return b;
    });
    this.track.replaceChildren(fragment);
    this.track.setAttribute(
      "aria-label",
      `${this.name}: ${count(this.segs.length)} segments. Arrow keys move between them; Enter pins one's details.`,
    );
    this.setZoom(this.zoom, false);
    this.update(now);
    if (hadFocus) this.buttons[this.focusIndex]?.focus({ preventScroll: true });
  }

  /** Recomputes times (the open segment grows) without rebuilding the buttons. */
  tick(now: number): void {
    if (!this.session || this.session.ended_at !== null) return;
    this.segs = segments(this.session, now);
    this.update(now);
  }

  private update(now: number): void {
    const session = this.session;
    if (!session) return;
    this.now = now;
    this.span = sessionSpan(session, now);
    const { start, end } = this.span;
    const total = end - start;
    this.segs.forEach((seg, i) => {
      const b = this.buttons[i];
      if (!b) return;
      b.tabIndex = i === this.focusIndex ? 0 : -1;
      b.setAttribute("aria-pressed", String(i === this.pinned));
      b.classList.toggle("open", seg.open);
      (b.lastElementChild as HTMLElement).textContent = formatDuration(seg.duration);
      b.setAttribute(
        "aria-label",
        `${seg.status}, ${formatDuration(seg.duration)}, ${time(seg.start)} to ${seg.open ? "now" : time(seg.end)}, stamp ${seg.index + 1} of ${this.segs.length}${seg.stamp.meta ? ", has meta" : ""}`,
      );
    });
    this.layout();

    const ended = session.ended_at !== null;
    this.summary.replaceChildren();
    const parts = [
      `Session ${session.session_id}`,
      `started ${dateTime(start)}`,
      ended
        ? `ended ${dateTime(end)} (${session.end_reason ?? "ended"}) after ${formatDuration(total)}`
        : `active for ${formatDuration(total)}`,
      `${count(session.stamp_count)} stamps`,
    ];
    this.summary.textContent = parts.join(" · ");

    const enter = el("span", "mark mark-enter", `Enter ${time(start)}`);
    enter.title = session.started_at;
    const exit = el(
      "span",
      ended ? "mark mark-exit" : "mark mark-now",
      ended ? `Exit ${time(end)} · ${session.end_reason ?? ""}` : `now ${time(end)}`,
    );
    exit.title = ended ? (session.ended_at ?? "") : iso(end);
    this.marks.replaceChildren(enter, exit);

    const ticks = Math.min(40, Math.max(2, Math.round(4 * this.zoom)));
    const axis = document.createDocumentFragment();
    for (let i = 0; i <= ticks; i++) {
      const t = el("span", "tick", time(start + (total * i) / ticks));
      t.style.left = `${(100 * i) / ticks}%`;
      if (i === 0) t.classList.add("first");
      if (i === ticks) t.classList.add("last");
      axis.append(t);
    }
    this.axis.replaceChildren(axis);

    this.renderDetails();
    this.renderDwell();
  }

  /** Positions and label visibility; cheap enough to run every second for 1,000 segments. */
  private layout(): void {
    const { start, end } = this.span;
    const total = end - start;
    const width = this.trackWidth || this.track.clientWidth;
    this.segs.forEach((seg, i) => {
      const b = this.buttons[i];
      if (!b) return;
      const left = total > 0 ? (seg.start - start) / total : i / Math.max(1, this.segs.length);
      const share = total > 0 ? seg.duration / total : 1 / Math.max(1, this.segs.length);
      b.style.left = `${left * 100}%`;
      b.style.width = `${share * 100}%`;
      b.classList.toggle("narrow", share * width < MIN_LABEL_PX);
    });
  }

  private setZoom(value: number, redraw = true): void {
    this.zoom = Math.min(MAX_ZOOM, Math.max(1, value));
    this.inner.style.width = `${this.zoom * 100}%`;
    this.zoomOut.disabled = this.zoom <= 1;
    this.zoomFit.disabled = this.zoom <= 1;
    this.zoomIn.disabled = this.zoom >= MAX_ZOOM;
    this.trackWidth = this.track.clientWidth;
    if (redraw && this.session) this.update(this.now);
  }

  private indexOf(target: EventTarget | null): number | null {
    const b = target instanceof Element ? target.closest<HTMLElement>(".seg") : null;
    return b?.dataset.index === undefined ? null : Number(b.dataset.index);
  }

  private onKey(e: KeyboardEvent): void {
    const last = this.buttons.length - 1;
    const moves: Record<string, number> = {
      ArrowRight: this.focusIndex + 1,
      ArrowDown: this.focusIndex + 1,
      ArrowLeft: this.focusIndex - 1,
      ArrowUp: this.focusIndex - 1,
      PageDown: this.focusIndex + 10,
      PageUp: this.focusIndex - 10,
      Home: 0,
      End: last,
    };
    const target = moves[e.key];
    if (target === undefined) {
      if (e.key === "Escape" && this.pinned !== null) {
        this.pinned = null;
        this.update(this.now);
      }
      return;
    }
    e.preventDefault();
    const index = Math.min(last, Math.max(0, target));
    this.buttons[this.focusIndex]?.setAttribute("tabindex", "-1");
    this.focusIndex = index;
    const b = this.buttons[index];
    if (!b) return;
    b.tabIndex = 0;
    b.focus({ preventScroll: true });
    b.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  private pin(index: number): void {
    this.pinned = this.pinned === index ? null : index;
    this.focusIndex = index;
    this.buttons.forEach((b, i) => {
      b.setAttribute("aria-pressed", String(i === this.pinned));
      b.tabIndex = i === index ? 0 : -1;
    });
    this.renderDetails();
  }

  private preview(index: number | null): void {
    if (this.previewing === index) return;
    this.previewing = index;
    this.renderDetails();
  }

  private renderDetails(): void {
    const index = this.previewing ?? this.pinned;
    const seg = index === null ? undefined : this.segs[index];
    if (!seg) {
      this.details.replaceChildren(
        el("p", "muted", "Hover, click or tab to a segment to see its times and meta. Click (or Enter) pins it."),
      );
      return;
    }
    const title = el("h3");
    title.append(swatch(seg.status), document.createTextNode(seg.status));
    if (index === this.pinned) title.append(el("span", "muted", " (pinned)"));
    const list = el("dl");
    const row = (term: string, value: string, full?: string) => {
      const dd = el("dd", "", value);
      if (full) dd.title = full;
      list.append(el("dt", "", term), dd);
    };
    row("Stamp", `${count(seg.index + 1)} of ${count(this.segs.length)}`);
    row("From", dateTime(seg.start), seg.stamp.timestamp);
    row("To", seg.open ? "now (still in this status)" : dateTime(seg.end), iso(seg.end));
    row("Duration", formatDuration(seg.duration));
    if (seg.stamp.received_at && seg.stamp.received_at !== seg.stamp.timestamp) {
      row("Received", dateTime(Date.parse(seg.stamp.received_at)), seg.stamp.received_at);
    }
    const meta = seg.stamp.meta;
    const metaBlock = meta ? el("pre", "meta", JSON.stringify(meta, null, 2)) : el("p", "muted", "No meta on this stamp.");
    this.details.replaceChildren(title, list, metaBlock);
  }

  private renderDwell(): void {
    const caption = el("caption", "", "Time in each status");
    const head = el("thead");
    const hr = el("tr");
    for (const h of ["Status", "Total time", "Share", "Stamps"]) {
      const th = el("th", "", h);
      th.scope = "col";
      hr.append(th);
    }
    head.append(hr);
    const body = el("tbody");
    for (const d of dwellSummary(this.segs)) {
      const tr = el("tr");
      const th = el("th");
      th.scope = "row";
      const lab = el("span", "lab");
      lab.append(swatch(d.status), document.createTextNode(d.status));
      th.append(lab);
      tr.append(
        th,
        el("td", "num", formatDuration(d.total)),
        el("td", "num", `${(d.share * 100).toFixed(1)} %`),
        el("td", "num", count(d.count)),
      );
      body.append(tr);
    }
    this.dwell.replaceChildren(caption, head, body);
  }
}
