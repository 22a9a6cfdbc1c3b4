import { describe, expect, it } from "vitest";
import { firstFailedTask, readArtifacts, readTasks } from "../src/run_view/tasks";
import { parseTime, showValue } from "../src/run_view/wire";
import { fixtureRun, tasksFrom } from "./run_view_helpers";

describe("parseTime", () => {
  it("reads RFC 3339 with Z, offsets, nanoseconds and naive times as UTC", () => {
    const t = Date.UTC(2026, 0, 2, 1, 0, 0);
    expect(parseTime("2026-01-02T01:00:00Z")).toBe(t);
    expect(parseTime("2026-01-02T03:00:00+02:00")).toBe(t);
    expect(parseTime("2026-01-02T01:00:00.123456789Z")).toBe(t + 123);
    expect(parseTime("2026-01-02T01:00:00")).toBe(t);
  });

  it("treats the epoch (KFP's unset) and junk as NaN", () => {
    for (const v of ["1970-01-01T00:00:00Z", "", "yesterday", null, 5, {}, undefined]) {
      expect(parseTime(v)).toBeNaN();
    }
  });
});

describe("readTasks", () => {
  it("never throws on garbage and fills every field", () => {
    const garbage = [
      null,
      "x",
      [],
      { task_id: 3, state: { no: 1 }, create_time: 12, outputs: "none", error: [] },
      {
        task_id: "t",
        outputs: { artifacts: [null, { artifacts: "x" }, { artifacts: [null, 4] }] },
      },
    ];
    const tasks = readTasks(garbage);
    expect(tasks.map((t) => t.id)).toEqual(["3", "t"]);
    expect(tasks[0].state).toBe("");
    expect(tasks[0].created).toBeNaN();
    expect(tasks[0].errorMessage).toBe("");
    expect(tasks[1].artifacts).toHaveLength(2); // null and 4 read as empty artifacts
    expect(readTasks(null)).toEqual([]);
    expect(readTasks({ tasks: [] })).toEqual([]);
  });

  it("reads the root (no type, no parent) as a container and DAGs as containers", () => {
    const tasks = readTasks(fixtureRun("run_succeeded").tasks);
    const root = tasks.find((t) => !t.parentId);
    expect(root?.type).toBe("ROOT");
    expect(root?.container).toBe(true);
    expect(tasks.filter((t) => t.container).length).toBe(3);
  });

  it("marks CACHED tasks, not every task with a cache fingerprint", () => {
    const tasks = tasksFrom([
      { id: "a", state: "CACHED" },
      { id: "b", state: "SUCCEEDED", cache_fingerprint: "f" },
    ]);
    expect(tasks.map((t) => t.cached)).toEqual([true, false]);
  });
});

describe("readArtifacts", () => {
  it("flattens output keys and keeps metric values", () => {
    const found = readArtifacts({
      artifacts: [
        { artifact_key: "model", artifacts: [{ name: "model", type: "Model", uri: "s3://b/m" }] },
        {
          artifact_key: "metrics",
          artifacts: [
            { name: "auc", type: "Metric", number_value: 0.9 },
            { name: "n", type: "Metric", number_value: "12" },
          ],
        },
      ],
    });
    expect(found.map((a) => [a.key, a.name, a.uri, a.numberValue])).toEqual([
      ["model", "model", "s3://b/m", null],
      ["metrics", "auc", "", 0.9],
      ["metrics", "n", "", 12],
    ]);
  });
});

const at = (minute: number): string => `2026-01-01T00:0${minute}:00Z`;

describe("firstFailedTask", () => {
  it("picks the earliest failed task by end time, then create time", () => {
    const tasks = tasksFrom([
      { id: "late", state: "FAILED", created: at(0), ended: at(9) },
      { id: "early", state: "FAILED", created: at(5), ended: at(6) },
      { id: "ok", state: "SUCCEEDED", ended: "2026-01-01T00:01:00Z" },
    ]);
    expect(firstFailedTask(tasks)?.id).toBe("early");
  });

  it("breaks end-time ties by create time and puts unset end times last", () => {
    const tasks = tasksFrom([
      { id: "open", state: "FAILED", created: "2026-01-01T00:00:00Z" },
      { id: "b", state: "FAILED", created: "2026-01-01T00:02:00Z", ended: "2026-01-01T00:05:00Z" },
      { id: "a", state: "FAILED", created: "2026-01-01T00:01:00Z", ended: "2026-01-01T00:05:00Z" },
    ]);
    expect(firstFailedTask(tasks)?.id).toBe("a");
  });

  it("prefers the failing task over the DAGs and root that fail because of it", () => {
    const task = firstFailedTask(readTasks(fixtureRun("run_failed").tasks));
    expect(task?.name).toBe("score");
    expect(task?.errorMessage).toMatch(/task 'score' failed: exit code 1/);
  });

  it("takes the message from status_metadata when error is absent", () => {
    const meta = { message: "OOMKilled" };
    const [task] = tasksFrom([{ id: "t", state: "FAILED", status_metadata: meta }]);
    expect(firstFailedTask([task])?.errorMessage).toBe("OOMKilled");
  });

  it("is null when nothing failed", () => {
    expect(firstFailedTask(readTasks(fixtureRun("run_succeeded").tasks))).toBeNull();
    expect(firstFailedTask([])).toBeNull();
  });
});

describe("showValue", () => {
  it("shows lists and objects as JSON and empties as a dash", () => {
    expect(showValue([1, "a"])).toBe('[1,"a"]');
    expect(showValue({ k: true })).toBe('{"k":true}');
    expect(showValue(null)).toBe("—");
    expect(showValue(0)).toBe("0");
  });
});
