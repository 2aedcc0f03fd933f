"""New run: pick a clip (or upload a short video), a policy and the networks, run it with a progress bar; the run
appears in the sidebar's list."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from workbench.errors import InputError
from workbench.flow import list_flows
from workbench.io import find_clip_folders, open_dataset
from workbench.pipeline import POLICIES, RULES, PipelineConfig
from workbench.pipeline.build import INHERITED, SegmenterSpec, build
from workbench.runs import RunError, record_run
from workbench.seg.checkpoint import MODELS_DIR
from workbench.seg.teacher import available_teachers

import common

INHERIT = "decision network's"
st.title("New run")
root = common.runs_root()
table = common.runs()
candidates = []  # the clips of existing runs, then generated clip folders
for _, row in table.iterrows():
    if not row["error"]:
        try:
            path = common.load(row["path"])[0]["source"].get("path")
            if path and Path(path).exists():
                candidates.append(path)
        except (RunError, OSError, ValueError):  # changed since it was listed; a path no file system takes
            pass
for folder in (Path("data/demo/clips"), Path("data/synth"), Path("data/real")):
    if folder.is_dir():
        candidates += [str(p) for p in find_clip_folders(folder)]
candidates = sorted(dict.fromkeys(candidates))

with st.form("new_run"):
    source = st.selectbox("clip", candidates, key="new_source") if candidates else None
    upload = st.file_uploader("…or upload a short video", type=list(common.UPLOAD_TYPES), key="new_upload",
                              help=f"up to {common.MAX_UPLOAD_MB} MB; kept under {common.confinement_root()}/"
                                   f"{common.UPLOADS} while a run uses it")
    cols = st.columns(4)
    policy = cols[0].selectbox("policy", list(POLICIES), index=list(POLICIES).index("adaptive"), key="new_policy")
    target = cols[1].slider("target", 0.0, 100.0, 90.0, 1.0, key="new_target")
    interval = cols[2].number_input("interval (fixed)", 1, 60, 5, key="new_interval")
    dynamic = cols[3].checkbox("dynamic target", key="new_dynamic")
    cols = st.columns(4)
    shipped = sorted(p.parent.name for p in MODELS_DIR.glob("*/checkpoint.pt"))
    seg_models = [m for m in shipped if not m.startswith(("decision", "pwc"))] or ["unet"]
    seg_choices = seg_models + available_teachers()
    seg = cols[0].selectbox("segmentation network", seg_choices, key="new_seg",
                            index=seg_choices.index("unet") if "unet" in seg_choices else 0,  # the CLI's default
                            help="mediapipe: MediaPipe Selfie Segmentation, the real-video teacher (make teacher)")
    decision = cols[1].selectbox("decision network", [m for m in shipped if m.startswith("decision")] or ["decision"],
                                 key="new_decision")
    flows = [INHERIT, *(m for m in list_flows(pairs_only=True) if m != "zero")]
    flow = cols[2].selectbox("flow", flows, key="new_flow",
                             help="the warp path's flow; by default the one the decision network was trained with "
                                  "(with its scale and score), as on the command line")
    regions = cols[3].selectbox("regions", ["2x2", "1x1", "1x2", "2x3", "3x3"], key="new_regions")
    cols = st.columns([2, 1, 1, 1])
    overlap = cols[0].slider("overlap (px)", 0, 48, 16, key="new_overlap")
    rule = cols[3].selectbox("rule (adaptive, oracle)", list(RULES), key="new_rule",
                             help="; ".join(f"{name}: {rule.summary}" for name, rule in RULES.items()))
    correct = cols[1].selectbox("corrector (Accel)", ["none", *(m for m in seg_models if m == "fastseg")],
                                key="new_correct",
                                help="fuse every output with this fast network's (Accel-style; docs/results.md)")
    correct_weight = cols[2].number_input("corrector weight", 0.0, 10.0, 3.0, 0.5, key="new_correct_weight")
    submitted = st.form_submit_button("run", type="primary")

if submitted:
    uploaded = None  # the file save_upload made, removed again when the run fails
    finished = False
    try:
        if not common.inside_root(root):  # the runs folder is checked when chosen; a link may have changed since
            raise InputError(f"{root}: outside the dashboard's root {common.confinement_root()}")
        if upload is not None:
            uploaded = common.save_upload(upload)
            source = str(uploaded)
        if not source:
            raise InputError("choose a clip or upload a video")
        rows, cols_ = (int(v) for v in regions.split("x"))
        config = PipelineConfig(policy=policy, target=target, rule=rule, interval=int(interval), dynamic=dynamic,
                                regions=(rows, cols_), overlap=overlap, correct_weight=correct_weight,
                                **({} if flow == INHERIT else {"flow": flow}))
        spec = SegmenterSpec(pipeline=config, seg=seg, decision=decision, correct=correct,
                             inherit=INHERITED if flow == INHERIT else tuple(k for k in INHERITED if k != "flow"))
        built = build(spec)  # the command line's builder: the same networks and settings as `workbench dvs run`
        for seq in open_dataset(source):
            segmenter = built.segmenter(seq)
            bar = st.progress(0.0, text=f"{seq.name}: starting")

            def progress(done: int, total: int, bar=bar, name=seq.name) -> None:
                bar.progress(done / total, text=f"{name}: frame {done} of {total}")

            run = record_run(segmenter, seq, root, evaluate=seq.has_masks, progress=False, on_frame=progress)
            s = run.summary
            iou = "" if s["mean_iou"] is None else f"mean IoU {s['mean_iou']:.3f}, "
            st.success(f"{seq.name}: {iou}{common.number(s['fps'])} fps, key fraction {s['key_fraction']:.3f} → "
                       f"{run.run_id}")
            st.session_state["pending_run"] = str(run.path)
        finished = True
        common.run_table.clear()
        st.button("show it", on_click=lambda: None, help="select the new run in the sidebar")
    except InputError as exc:
        st.error(str(exc))
    except Exception as exc:  # a video that cannot be decoded, a network that fails: one line, details in the log
        common.LOG.exception("dashboard: new run failed")
        st.error(f"The run failed ({common.one_line(exc)}); the details are in the dashboard's log.")
    finally:
        if uploaded is not None and not finished:
            common.remove_upload(uploaded)
