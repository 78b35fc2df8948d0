import { describe, expect, it } from "vitest";
import { api } from "./helpers";

const range = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";
const steps = async (query: string) => {
  const res = await api(`/v1/analytics/funnel?${query}&${range}`);
  expect(res.status).toBe(200);
  return res.json.data.steps.map((s: { status: string }) => s.status);
};

describe("the analytics cache", () => {
  it("answers each distinct query its own answer, whatever characters its labels hold", async () => {
    // Both lists join to "step=A&step=B&step=C" as raw k=v pairs.
    expect(await steps("step=A%26step%3DB&step=C")).toEqual(["A&step=B", "C"]);
    expect(await steps("step=A&step=B%26step%3DC")).toEqual(["A", "B&step=C"]);
    expect(await steps("step=A&step=B&step=C")).toEqual(["A", "B", "C"]);
  });

  it("keeps a label that looks like another parameter apart from that parameter", async () => {
    expect(await steps("step=X&step=Y%26within_seconds%3D60")).toEqual(["X", "Y&within_seconds=60"]);
    expect(await steps("step=X&step=Y&within_seconds=60")).toEqual(["X", "Y"]);
  });
});
