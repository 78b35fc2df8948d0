/**
 * The dashboard's three charts, drawn by Chart.js (bundled; only the parts used are registered, so
 * esbuild leaves the rest out). Chart.js draws on a canvas and styles it through the CSSOM only
 * (`canvas.style.width = …`), which the console's strict `style-src 'self'` allows; it injects no
 * stylesheet and loads nothing. Scales, ticks, tooltips and the legend are Chart.js's; the one
 * thing added here is a plugin writing each bar's figure beside it.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  type ChartDataset,
  type ChartType,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  type Plugin,
  PointElement,
  Tooltip,
} from "chart.js";
import {
  bucketLabel,
  type DwellStatus,
  durationUnit,
  type FunnelStep,
  formatPercent,
  formatSeconds,
  type Interval,
  type VisitsBucket,
} from "./dashboard";
import { count } from "./format";
import { colourFor } from "./timeline";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

const INK = "#111827";
const MUTED = "#4b5563";
const GRID = "#e5e7eb";
const LOST = "#e5e7eb";
const LOST_EDGE = "#6b7280";
const MEDIAN = "#334155";
const P90 = "#94a3b8";
const SESSIONS = "#1d4ed8";
const DURATION = "#b45309";

/** The page's own font (system fonts only), and no animation: figures change in place on refresh. */
function setDefaults(): void {
  const root = getComputedStyle(document.documentElement);
  Chart.defaults.font.family = root.fontFamily;
  // Three quarters of the page's text size (which grows with the screen), never below 12 px.
  Chart.defaults.font.size = Math.max(12, Math.round(0.75 * (Number.parseFloat(root.fontSize) || 16)));
  Chart.defaults.color = INK;
  Chart.defaults.borderColor = GRID;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.responsive = true;
}

interface ValueLabelOptions {
  /** Lines written above (vertical bars) or after (horizontal bars) each bar of dataset `dataset`. */
  texts?: string[][];
  dataset?: number;
}

declare module "chart.js" {
  interface PluginOptionsByType<TType extends ChartType> {
    valueLabels?: ValueLabelOptions;
  }
}

/** Writes each bar's figure next to it (the number a reader looks for first, without hovering). */
const valueLabels: Plugin = {
  id: "valueLabels",
  afterDatasetsDraw(chart, _args, options: ValueLabelOptions) {
    const texts = options.texts;
    if (!texts?.length) return;
    const meta = chart.getDatasetMeta(options.dataset ?? 0);
    if (meta.hidden) return;
    const { ctx } = chart;
    const size = Chart.defaults.font.size ?? 13;
    const horizontal = chart.options.indexAxis === "y";
    // Above a vertical bar there is one category's width: lines that do not fit are left out (the tooltip and table have them).
    const room = horizontal ? Number.POSITIVE_INFINITY : chart.chartArea.width / Math.max(1, meta.data.length) - 4;
    const font = (k: number) => `${k === 0 ? "700 " : ""}${size}px ${Chart.defaults.font.family}`;
    ctx.save();
    ctx.fillStyle = INK;
    meta.data.forEach((bar, i) => {
      const lines = (texts[i] ?? []).filter((line, k) => {
        ctx.font = font(k);
        return k === 0 || ctx.measureText(line).width <= room;
      });
      if (!lines.length) return;
      const { x, y } = bar.getProps(["x", "y"], true) as { x: number; y: number };
      lines.forEach((line, k) => {
        ctx.font = font(k);
        if (horizontal) {
          ctx.textAlign = "left";
          ctx.textBaseline = "middle";
          ctx.fillText(line, x + 6, y + (k - (lines.length - 1) / 2) * (size + 2));
        } else {
          ctx.textAlign = "center";
          ctx.textBaseline = "bottom";
          ctx.fillText(line, x, y - 4 - (lines.length - 1 - k) * (size + 3));
        }
      });
    });
    ctx.restore();
  },
};

/** One chart on one canvas: created on first data, updated in place after. */
class ChartSlot {
  private chart: Chart | null = null;
  constructor(private readonly canvas: HTMLCanvasElement) {}

  draw(config: ChartConfiguration): void {
    const typeOf = (c: unknown) => (c as { type?: string }).type;
    if (this.chart && typeOf(this.chart.config) === typeOf(config)) {
      this.chart.data = config.data;
      this.chart.options = config.options ?? {};
      this.chart.update();
      return;
    }
    this.chart?.destroy();
    this.chart = new Chart(this.canvas, { ...config, plugins: [valueLabels] });
  }

  clear(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}

const durationTick = (unit: string) => (value: number | string) => {
  const n = Number(value);
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
};

export class DashboardCharts {
  private readonly funnel: ChartSlot;
  private readonly dwell: ChartSlot;
  private readonly visits: ChartSlot;

  constructor(canvases: { funnel: HTMLCanvasElement; dwell: HTMLCanvasElement; visits: HTMLCanvasElement }) {
    setDefaults();
    this.funnel = new ChartSlot(canvases.funnel);
    this.dwell = new ChartSlot(canvases.dwell);
    this.visits = new ChartSlot(canvases.visits);
  }

  clear(): void {
    this.funnel.clear();
    this.dwell.clear();
    this.visits.clear();
  }

  /**
   * The funnel as bars, one per step in the step's status colour; stacked on each, in grey, the
   * sessions lost since the previous step. Above each bar its count and conversion from the previous
   * step; under each step's name, the conversion from the first.
   */
  drawFunnel(steps: readonly FunnelStep[]): void {
    const lost = steps.map((s, k) => (k === 0 ? 0 : Math.max(0, steps[k - 1]!.sessions - s.sessions)));
    const reached: ChartDataset<"bar"> = {
      label: "Sessions that reached the step",
      data: steps.map((s) => s.sessions),
      backgroundColor: steps.map((s) => colourFor(s.status).background),
      borderColor: INK,
      borderWidth: 1,
      stack: "funnel",
    };
    const dropped: ChartDataset<"bar"> = {
      label: "Lost since the previous step",
      data: lost,
      backgroundColor: LOST,
      borderColor: LOST_EDGE,
      borderWidth: 1,
      borderDash: [4, 3],
      stack: "funnel",
    } as ChartDataset<"bar">;
    this.funnel.draw({
      type: "bar",
      data: {
        labels: steps.map((s, k) =>
          k === 0 ? [s.status, "first step"] : [s.status, `${formatPercent(s.conversion_from_first)} of first`],
        ),
        datasets: [reached, dropped],
      },
      options: {
        layout: { padding: { top: 8 } },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { color: INK, font: { weight: 600 } } },
          y: {
            stacked: true,
            beginAtZero: true,
            grace: "18%",
            ticks: { precision: 0, color: MUTED },
            title: { display: true, text: "Sessions", color: MUTED },
          },
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: {
              generateLabels: () => [
                { text: "Sessions that reached the step", fillStyle: MEDIAN, strokeStyle: INK, lineWidth: 1, datasetIndex: 0 },
                { text: "Lost since the previous step", fillStyle: LOST, strokeStyle: LOST_EDGE, lineWidth: 1, datasetIndex: 1 },
              ],
            },
          },
          tooltip: {
            callbacks: {
              label: (item) => {
                const step = steps[item.dataIndex]!;
                if (item.datasetIndex === 1) return `Lost since the previous step: ${count(lost[item.dataIndex]!)}`;
                return `${count(step.sessions)} sessions · ${formatPercent(step.conversion_from_previous)} of previous · ${formatPercent(step.conversion_from_first)} of first`;
              },
              afterLabel: (item) => {
                const step = steps[item.dataIndex]!;
                if (item.datasetIndex === 1 || item.dataIndex === 0) return "";
                return `Time from previous: median ${formatSeconds(step.median_seconds_from_previous)}, p90 ${formatSeconds(step.p90_seconds_from_previous)}`;
              },
            },
          },
          valueLabels: {
            dataset: 1,
            texts: steps.map((s, k) =>
              k === 0 ? [count(s.sessions)] : [count(s.sessions), `${formatPercent(s.conversion_from_previous)} of prev.`],
            ),
          },
        },
      },
    });
  }

  /** Time in each status: median and 90th percentile side by side, per status, most visited first. */
  drawDwell(statuses: readonly DwellStatus[]): void {
    const max = Math.max(0, ...statuses.map((s) => s.p90_seconds));
    const { unit, seconds } = durationUnit(max);
    this.dwell.draw({
      type: "bar",
      data: {
        labels: statuses.map((s) => [s.status, `${count(s.visits)} visit${s.visits === 1 ? "" : "s"}`]),
        datasets: [
          {
            label: "Median",
            data: statuses.map((s) => s.median_seconds / seconds),
            backgroundColor: MEDIAN,
            borderColor: INK,
            borderWidth: 1,
          },
          {
            label: "90th percentile",
            data: statuses.map((s) => s.p90_seconds / seconds),
            backgroundColor: P90,
            borderColor: INK,
            borderWidth: 1,
          },
        ],
      },
      options: {
        indexAxis: "y",
        scales: {
          x: {
            beginAtZero: true,
            ticks: { color: MUTED, callback: durationTick(unit) },
            title: { display: true, text: `Time in the status (${unit})`, color: MUTED },
          },
          y: { grid: { display: false }, ticks: { color: INK, font: { weight: 600 } } },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: (item) => {
                const s = statuses[item.dataIndex]!;
                return item.datasetIndex === 0
                  ? `Median ${formatSeconds(s.median_seconds)}`
                  : `90th percentile ${formatSeconds(s.p90_seconds)}`;
              },
              footer: (items) => {
                const s = items[0] ? statuses[items[0].dataIndex] : undefined;
                return s ? `${count(s.visits)} visits, ${formatSeconds(s.total_seconds)} in all` : "";
              },
            },
          },
        },
      },
    });
  }

  /** Sessions per bucket as bars (left axis), their median duration as a line (right axis). */
  drawVisits(buckets: readonly VisitsBucket[], interval: Interval): void {
    const max = Math.max(0, ...buckets.map((b) => b.median_duration_seconds ?? 0));
    const { unit, seconds } = durationUnit(max);
    const labels = buckets.map((b, i) => bucketLabel(b.start, interval, i === 0));
    const config = {
      type: "bar",
      data: {
        labels: labels.map((l) => l.tick),
        datasets: [
          {
            type: "bar",
            label: "Sessions started",
            data: buckets.map((b) => b.sessions),
            backgroundColor: SESSIONS,
            yAxisID: "y",
            order: 2,
          },
          {
            type: "line",
            label: "Median duration",
            data: buckets.map((b) => (b.median_duration_seconds === null ? null : b.median_duration_seconds / seconds)),
            borderColor: DURATION,
            backgroundColor: DURATION,
            pointRadius: buckets.length > 60 ? 0 : 3,
            pointHoverRadius: 5,
            borderWidth: 2,
            spanGaps: false,
            yAxisID: "y1",
            order: 1,
          },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { color: MUTED, autoSkip: true, maxRotation: 0 } },
          y: {
            beginAtZero: true,
            position: "left",
            grace: "5%",
            ticks: { precision: 0, color: MUTED },
            title: { display: true, text: "Sessions started", color: MUTED },
          },
          y1: {
            beginAtZero: true,
            position: "right",
            grid: { drawOnChartArea: false },
            ticks: { color: MUTED, callback: durationTick(unit) },
            title: { display: true, text: `Median duration (${unit})`, color: MUTED },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { sort: (a, b) => (a.datasetIndex ?? 0) - (b.datasetIndex ?? 0) } },
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? (labels[items[0].dataIndex]?.full ?? "") : ""),
              label: (item) => {
                const b = buckets[item.dataIndex]!;
                return item.datasetIndex === 0
                  ? `${count(b.sessions)} sessions started`
                  : `Median duration ${formatSeconds(b.median_duration_seconds)}`;
              },
            },
          },
        },
      },
    } as ChartConfiguration;
    this.visits.draw(config);
  }
}
