import { RefObject, useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A uPlot chart in the returned element, following its width. It is made
 * again when `shape` (what it draws in kind, scale or series) changes, and
 * only given the new data otherwise.
 */
export function useUPlot(
  options: (width: number) => uPlot.Options,
  data: uPlot.AlignedData,
  shape: string,
  height: number
): RefObject<HTMLDivElement> {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const node = host.current;
    if (node === null) {
      return;
    }
    const chart = new uPlot(
      options(Math.max(node.clientWidth, 200)),
      data,
      node
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      if (node.clientWidth > 0 && node.clientWidth !== chart.width) {
        chart.setSize({ width: node.clientWidth, height });
      }
    });
    resize.observe(node);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return host;
}

/**
 * A CSS variable of the current theme.
 */
export function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

/**
 * An axis drawn in the theme's text color, font and grid color.
 */
export function themedAxis(): uPlot.Axis {
  const font = `11px ${themeColor('--jp-ui-font-family', 'sans-serif')}`;
  return {
    stroke: themeColor('--jp-ui-font-color1', '#333'),
    font,
    labelFont: font,
    grid: { stroke: themeColor('--jp-border-color2', '#e0e0e0') }
  };
}
