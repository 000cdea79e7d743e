// The dashboard's timeline: credentials expiring per day over the next 90
// days, as an SVG bar chart (no library). The first week is drawn in the
// warning colour; each bar names its day and count.

import { svg } from './dom.js';

const W = 900;
const H = 180;
const PAD_L = 34;
const PAD_B = 24;
const PAD_T = 10;
const dayLabel = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** The chart of `days` ([{day: unix seconds of local midnight, count}]). */
export function timeline(days) {
  const max = Math.max(1, ...days.map((d) => d.count));
  const total = days.reduce((n, d) => n + d.count, 0);
  const width = (W - PAD_L) / days.length;
  const plot = H - PAD_B - PAD_T;
  const chart = svg('svg', {
    class: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${total} certificates expire in the next ${days.length} days; at most ${max} on one day`,
  });
  chart.append(
    svg('line', { class: 'axis', x1: PAD_L, y1: H - PAD_B, x2: W, y2: H - PAD_B }),
    svg('text', { x: PAD_L - 6, y: PAD_T + 10, 'text-anchor': 'end' }, String(max)),
    svg('text', { x: PAD_L - 6, y: H - PAD_B, 'text-anchor': 'end' }, '0'));
  days.forEach((d, i) => {
    const x = PAD_L + i * width;
    if (d.count > 0) {
      const height = Math.max(2, (d.count / max) * plot);
      const date = dayLabel.format(new Date(d.day * 1000));
      chart.append(svg('rect', {
        class: i < 7 ? 'bar soon' : 'bar', x: x + 0.5, y: H - PAD_B - height,
        width: Math.max(1, width - 1), height,
      }, svg('title', {}, `${date}: ${d.count}`)));
    }
    if (i % 15 === 0) {
      chart.append(svg('text', { x, y: H - 6 }, dayLabel.format(new Date(d.day * 1000))));
    }
  });
  return chart;
}
