import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

const css = readFileSync(join(import.meta.dirname, "styles.css"), "utf8");

/** The colours of :root in styles.css, by name. */
function palette(): Record<string, string> {
  const root = css.slice(css.indexOf(":root"), css.indexOf("}"));
  return Object.fromEntries(
    [...root.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2]]),
  );
}

/** WCAG 2 relative luminance and contrast ratio. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

// Every text colour on every background it is used on.
const PAIRS: [string, string][] = [
  ["ink", "paper"],
  ["ink", "wash"],
  ["muted", "paper"],
  ["muted", "wash"],
  ["brand", "paper"],
  ["brand-ink", "brand"],
  ["danger", "paper"],
  ["paper", "danger"],
  ["ok", "paper"],
];

describe("colours", () => {
  const colours = palette();
  it.each(PAIRS)("%s on %s has at least 4.5:1 contrast (WCAG AA)", (text, background) => {
    expect(contrast(colours[text] as string, colours[background] as string)).toBeGreaterThanOrEqual(
      4.5,
    );
  });

  it.each([
    ["focus", "paper"],
    ["focus", "wash"],
    ["focus-on-brand", "brand"],
  ])("the focus ring %s on %s has at least 3:1 contrast (WCAG non-text)", (ring, background) => {
    expect(contrast(colours[ring] as string, colours[background] as string)).toBeGreaterThanOrEqual(
      3,
    );
  });
});
