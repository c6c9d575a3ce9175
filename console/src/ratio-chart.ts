import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  TimeScale,
  Tooltip,
} from 'chart.js';
import 'chartjs-adapter-date-fns';
import annotationPlugin from 'chartjs-plugin-annotation';
import { LEVEL_COLOURS } from './format.ts';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  TimeScale,
  Tooltip,
  Legend,
  Filler,
  annotationPlugin,
);

export interface Thresholds {
  warning: string;
  critical: string;
  liquidation: string;
}

export interface RatioPoint {
  at: string;
  marginRatio: string | null;
}

/**
 * Margin-ratio history over the account's threshold bands. The axis always spans every point: a bankrupt
 * account's negative ratio is drawn below zero, never pinned to the bottom; a point with no requirement
 * (nothing held) is a gap, labelled, never an "infinitely safe" spike.
 */
export class RatioChart {
  private readonly chart: Chart<'line', { x: number; y: number | null }[]>;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly thresholds: Thresholds,
    points: readonly RatioPoint[],
  ) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'margin ratio',
            data: [],
            borderColor: '#24292f',
            backgroundColor: '#24292f',
            pointRadius: 2,
            borderWidth: 1.6,
            spanGaps: false,
            stepped: false,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { type: 'time', time: { tooltipFormat: 'yyyy-MM-dd HH:mm' }, ticks: { maxTicksLimit: 8 } },
          y: { type: 'linear', title: { display: true, text: 'equity / maintenance' } },
        },
        plugins: { legend: { display: false }, annotation: { annotations: {} } },
      },
    });
    this.set(points);
  }

  set(points: readonly RatioPoint[]): void {
    // Plotting needs floats; the exact figures are in the tables beside the chart.
    const data = points.map((p) => ({
      x: Date.parse(p.at),
      y: p.marginRatio === null ? null : Number(p.marginRatio),
    }));
    this.chart.data.datasets[0]!.data = data;
    const t = {
      w: Number(this.thresholds.warning),
      c: Number(this.thresholds.critical),
      l: Number(this.thresholds.liquidation),
    };
    const values = data.flatMap((d) => (d.y === null ? [] : [d.y]));
    const lo = Math.min(0, ...values);
    const hi = Math.max(t.w * 1.5, ...values);
    const pad = (hi - lo) * 0.05;
    const y = this.chart.options.scales!.y!;
    y.min = lo - pad;
    y.max = hi + pad;
    const band = (from: number, to: number, level: string) => ({
      type: 'box' as const,
      yMin: from,
      yMax: to,
      backgroundColor: `${LEVEL_COLOURS[level]}22`,
      borderWidth: 0,
      label: {
        display: true,
        content: level,
        position: { x: 'start' as const, y: 'center' as const },
        color: LEVEL_COLOURS[level],
        font: { size: 10 },
      },
    });
    const gaps = points.filter((p) => p.marginRatio === null);
    this.chart.options.plugins!.annotation!.annotations = {
      liquidation: band(lo - pad, t.l, 'LIQUIDATION'),
      critical: band(t.l, t.c, 'CRITICAL'),
      warning: band(t.c, t.w, 'WARNING'),
      safe: band(t.w, hi + pad, 'SAFE'),
      zero: {
        type: 'line',
        yMin: 0,
        yMax: 0,
        borderColor: '#c62828',
        borderWidth: 1,
        borderDash: [4, 4],
        label: { display: lo < 0, content: 'equity < 0 below', position: 'end', font: { size: 10 } },
      },
      ...Object.fromEntries(
        gaps.map((p, i) => [
          `flat${i}`,
          {
            type: 'line',
            xMin: Date.parse(p.at),
            xMax: Date.parse(p.at),
            borderColor: '#6e7781',
            borderDash: [2, 3],
            label: { display: i === 0, content: 'no requirement', position: 'start', font: { size: 10 } },
          },
        ]),
      ),
    };
    this.chart.update();
  }

  pointCount(): number {
    return this.chart.data.datasets[0]!.data.length;
  }

  destroy(): void {
    this.chart.destroy();
  }
}
