"""Unit tests of selector.py, one function or step at a time.

Run with `python3 -m unittest test_selector` in this directory (go test
./incluster/selector does). The step-by-step runs on plans the renderer
builds are in render/sweep (TestSelector*).
"""

import json
import os
import tempfile
import unittest

import selector


def plan(**kw):
    p = {
        "sweep": "tune",
        "algorithm": "random",
        "parallel": 2,
        "maxTrials": 4,
        "maxFailedTrials": 0,
        "objective": {"metric": "acc", "goal": "maximize", "additionalMetrics": ["loss"]},
        "parameters": [],
        "trials": [],
    }
    p.update(kw)
    return p


def rec(name, status="Succeeded", **metrics):
    return {"name": name, "parameters": {}, "status": status, "metrics": metrics}


class Files(unittest.TestCase):
    """Points the script's plan, input and output at a temporary directory."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        self.saved = (selector.PLAN, selector.IN, selector.OUT)
        selector.PLAN = os.path.join(d, "plan.json")
        selector.IN = os.path.join(d, "in")
        selector.OUT = os.path.join(d, "out")
        os.makedirs(selector.IN)

    def tearDown(self):
        selector.PLAN, selector.IN, selector.OUT = self.saved
        self.dir.cleanup()

    def given(self, p, **inputs):
        with open(selector.PLAN, "w") as f:
            json.dump(p, f)
        for k, v in inputs.items():
            with open(os.path.join(selector.IN, k), "w") as f:
                f.write(v)

    def output(self, name):
        with open(os.path.join(selector.OUT, name)) as f:
            return f.read()


class ParseMetrics(unittest.TestCase):
    def test_last_value_of_each_name_counts(self):
        log = "epoch=1 acc=0.5\n[epoch 2] acc = 0.75 loss=2.5e-1\n"
        self.assertEqual(selector.parse_metrics(log), {"epoch": 1.0, "acc": 0.75, "loss": 0.25})

    def test_values_glued_to_more_text_are_not_numbers(self):
        self.assertEqual(selector.parse_metrics("lr=0.1.2 path=3x acc=.5"), {"acc": 0.5})

    def test_infinite_values_are_dropped(self):
        self.assertEqual(selector.parse_metrics("loss=1e999 acc=1"), {"acc": 1.0})


class Names(unittest.TestCase):
    def test_trial_name_is_sha256_of_sorted_lines(self):
        # printf 'batch=64\nlr=0.01\n' | sha256sum, first 10 hex digits
        self.assertEqual(selector.trial_name({"lr": "0.01", "batch": "64"}), "08ba8f8cab")

    def test_item_carries_its_name(self):
        self.assertEqual(selector.item({"a": "1"}, "t1"), {"a": "1", "trial": "t1"})


class Canonical(unittest.TestCase):
    def test_discrete_values_match_numerically(self):
        p = {"name": "batch", "type": "discrete", "values": ["32", "64.0"]}
        self.assertEqual(selector.canonical(p, 64), "64.0")
        self.assertEqual(selector.canonical(p, "32"), "32")
        with self.assertRaisesRegex(ValueError, "batch=16 is not one of"):
            selector.canonical(p, 16)

    def test_ranges(self):
        i = {"name": "layers", "type": "int", "min": 1, "max": 8}
        self.assertEqual(selector.canonical(i, 4.0), "4")
        with self.assertRaisesRegex(ValueError, "is not an int"):
            selector.canonical(i, 2.5)
        with self.assertRaisesRegex(ValueError, r"outside \[1, 8\]"):
            selector.canonical(i, 9)
        d = {"name": "lr", "type": "double", "min": 0.0001, "max": 0.1}
        self.assertEqual(selector.canonical(d, 0.0012345678), "0.00123457")
        with self.assertRaises(ValueError):
            selector.canonical(d, float("nan"))


class Ranking(unittest.TestCase):
    def test_best_first_ties_by_name_failures_left_out(self):
        p = plan()
        recs = [rec("b", acc=0.9), rec("a", acc=0.9), rec("c", acc=0.95), rec("d", "Failed", acc=0.99), rec("e")]
        self.assertEqual([r["name"] for r in selector.ranked(p, recs)], ["c", "a", "b"])
        p["objective"]["goal"] = "minimize"
        self.assertEqual([r["name"] for r in selector.ranked(p, recs)], ["a", "b", "c"])

    def test_target(self):
        p = plan()
        self.assertFalse(selector.reached(p, 0.99), "no target")
        p["objective"]["target"] = 0.9
        self.assertTrue(selector.reached(p, 0.9))
        self.assertFalse(selector.reached(p, 0.89))
        self.assertFalse(selector.reached(p, None))
        p["objective"]["goal"] = "minimize"
        self.assertTrue(selector.reached(p, 0.5))


class Hyperband(unittest.TestCase):
    def test_rungs_promote_the_best_with_more_resource(self):
        t = lambda lr: {"name": selector.trial_name({"lr": lr}), "parameters": [{"name": "lr", "value": lr}]}
        p = plan(algorithm="hyperband", resource="epochs",
                 brackets=[{"trials": [t("0.1"), t("0.01")], "rungs": [{"trials": 2, "resource": 1}, {"trials": 1, "resource": 3}]}])
        history = {"trials": []}
        b, rung, items = selector.hyperband_round(p, history)
        self.assertEqual((b, rung), (0, 0))
        self.assertEqual(sorted(i["lr"] for i in items), ["0.01", "0.1"])
        for i, acc in zip(items, (0.7, 0.8)):
            r = rec(i["trial"], acc=acc)
            r.update(parameters={"lr": i["lr"]}, bracket=0, rung=0)
            history["trials"].append(r)
        b, rung, items = selector.hyperband_round(p, history)
        self.assertEqual((b, rung), (0, 1))
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0]["epochs"], "3")
        survivor = max(history["trials"], key=lambda r: r["metrics"]["acc"])
        self.assertEqual(items[0]["lr"], survivor["parameters"]["lr"])
        history["trials"].append(dict(rec(items[0]["trial"], acc=0.9), bracket=0, rung=1))
        self.assertIsNone(selector.hyperband_round(p, history))


class Steps(Files):
    def test_collect_without_the_objective_is_no_metric(self):
        self.given(plan(), output="loss=0.3\n")
        os.environ["KILN_TRIAL"] = json.dumps({"trial": "t1", "lr": "0.1"})
        os.environ["KILN_STATUS"] = "Succeeded"
        try:
            selector.cmd_collect()
        finally:
            del os.environ["KILN_TRIAL"], os.environ["KILN_STATUS"]
        got = json.loads(self.output("record"))
        self.assertEqual(got, {"name": "t1", "parameters": {"lr": "0.1"}, "status": "NoMetric", "metrics": {"loss": 0.3}})

    def test_record_stops_at_the_target(self):
        p = plan(trials=[{"name": n, "parameters": []} for n in ("a", "b", "c")])
        p["objective"]["target"] = 0.9
        self.given(p, state=json.dumps({"round": 0}),
                   results=json.dumps([{"record": json.dumps(rec("a", acc=0.95))}, {"record": rec("b", acc=0.5)}]))
        selector.cmd_record()
        self.assertEqual(self.output("done"), "true")
        h = json.loads(self.output("history"))
        self.assertEqual(h["reason"], "target reached by trial a")
        self.assertEqual(h["rounds"], 1)

    def test_record_fails_past_max_failed_trials(self):
        p = plan(trials=[{"name": n, "parameters": []} for n in ("a", "b", "c")], maxFailedTrials=1)
        self.given(p, results=json.dumps([{"record": rec("a", "Failed")}, {"record": rec("b", "Failed")}]))
        selector.cmd_record()
        h = json.loads(self.output("history"))
        self.assertTrue(h["failed"])
        self.assertIn("2 trials failed, more than maxFailedTrials (1)", h["reason"])

    def test_adopt_refuses_what_is_not_a_list_of_trials(self):
        p = plan(algorithm="tpe", parameters=[{"name": "lr", "type": "double", "min": 0.001, "max": 0.1}])
        for suggested, want in (("not json", "not JSON"), ('{"lr": 0.01}', "want a JSON list"),
                                ('[{"batch": 1}]', "has no value for lr"), ('[{"lr": 5}]', "outside")):
            with self.subTest(suggested=suggested):
                self.given(p, suggested=suggested)
                with self.assertRaises(SystemExit) as e:
                    selector.cmd_adopt()
                self.assertIn(want, str(e.exception.code))

    def test_adopt_names_new_trials_only(self):
        p = plan(algorithm="tpe", parameters=[{"name": "lr", "type": "double", "min": 0.001, "max": 0.1}])
        done = selector.trial_name({"lr": "0.01"})
        self.given(p, history=json.dumps({"trials": [rec(done, acc=0.5)]}), suggested='[{"lr": 0.01}, {"lr": 0.02}]')
        selector.cmd_adopt()
        self.assertEqual(json.loads(self.output("next")), [{"lr": "0.02", "trial": selector.trial_name({"lr": "0.02"})}])


if __name__ == "__main__":
    unittest.main()
