"""``prisonsim calibrate CONFIG``: fit a scenario's uncertain parameters to reported ranges.

Runs (or resumes) the ABC-SMC of a calibration file into a calibration store (default
``results/<name>.db``; pyabc's history beside it), then writes:

* the calibrated scenario (default ``scenarios/<scenario>_calibrated.yaml``);
* the posterior's weighted particles beside it (``<scenario>_calibrated_posterior.csv``),
  which experiments can draw their uncertainties from, and
  ``<store stem>_posterior_summary.csv``;
* the validation page ``<store stem>_validation/index.html`` with its PNG figures.

An existing store of the same calibration file (same SHA-256) is resumed: stored runs are
read back, not run again, so the posterior is the one an uninterrupted run gives. A store
of another file is refused unless ``--overwrite``. Exit codes as for ``sweep``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli import UsageError, path_arg
from sim.cli.sweep import _check_run_options, _positive_int, _run_options, _start_backend


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "calibrate", help="fit uncertain parameters to the reported ranges (ABC-SMC)"
    )
    p.add_argument("config", help="calibration YAML file (or a shipped calibration's name)")
    p.add_argument(
        "--out", metavar="DB", type=path_arg, default=None,
        help="calibration store (default: results/<calibration name>.db)",
    )  # fmt: skip
    p.add_argument(
        "--overwrite", action="store_true", help="start again, replacing an existing store"
    )
    p.add_argument(
        "--scenario-out", metavar="FILE", type=path_arg, default=None,
        help="calibrated scenario file (default: scenarios/<scenario>_calibrated.yaml)",
    )  # fmt: skip
    p.add_argument(
        "--validation-runs", metavar="N", type=_positive_int, default=200,
        help="fresh runs of the calibrated scenario, and posterior draws, to validate "
        "with (default 200 each)",
    )  # fmt: skip
    _run_options(p)
    p.set_defaults(handler=cmd_calibrate)


def _open_store(spec: Any, db: Path, overwrite: bool) -> tuple[Any, bool]:
    """(claimed store, resume?) for ``spec`` at ``db``."""
    from sim.calibration.store import CalibrationStore, file_sha256, remove_store

    if db.exists() and overwrite:
        CalibrationStore(db).open(create=False).close()  # refuses a foreign or live file
        remove_store(db)
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        store = CalibrationStore(db).open(create=True)
        store.write_provenance(spec.path, spec.config())
        return store, False
    store = CalibrationStore(db).open(create=False)
    stored = store.provenance().get("calibration_sha256")
    if stored != file_sha256(spec.path):
        store.close()
        raise UsageError(
            f"{db} holds a calibration of another version of {spec.path}; give another "
            "--out, or --overwrite to start again"
        )
    return store, True


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.calibration.config import load_calibration
    from sim.calibration.run import calibrate
    from sim.config.scenario import SCENARIO_DIR
    from sim.model.compiled import warm_up

    _check_run_options(args)
    spec = load_calibration(args.config)
    db = Path(args.out) if args.out else Path("results") / f"{spec.name}.db"
    scenario_out = (
        Path(args.scenario_out)
        if args.scenario_out
        else SCENARIO_DIR / f"{spec.scenario.name}_calibrated.yaml"
    )
    store, resume = _open_store(spec, db, args.overwrite)
    with store:
        if resume:
            runs, _ = store.count()
            print(f"{db}: resuming ({runs} runs stored)", flush=True)
        warm_up()  # compile once here, not in every worker
        backend = _start_backend(args, spec.method.batch)
        try:
            result = calibrate(spec, store, backend, resume=resume)
            _write_outputs(spec, store, result, backend, args.validation_runs, scenario_out)
        finally:
            backend.close()
    return 0


def _write_outputs(
    spec: Any, store: Any, result: Any, backend: Any, n: int, scenario_out: Path
) -> None:
    from sim.calibration.posterior import summary
    from sim.calibration.store import file_sha256
    from sim.calibration.validate import calibrated_scenario_text, validate, write_page

    db = store.path
    gens = result.generations
    method = {
        "generations": int(gens["t"].max()) + 1,
        "runs": result.runs,
        "epsilon": float(gens["epsilon"].iloc[-1]),
        "ess": result.effective_sample_size,
    }
    print(
        f"{spec.name}: {method['generations']} generations, {result.runs} model runs "
        f"({result.runs_this_session} this session, {result.elapsed_s / 60:.1f} min), final "
        f"threshold {method['epsilon']:.3g}, effective sample size "
        f"{method['ess']:.0f} of {spec.method.population}",
        flush=True,
    )
    posterior_out = scenario_out.with_name(f"{scenario_out.stem}_posterior.csv")
    result.posterior.to_csv(posterior_out, index=False)
    summary(result.posterior, spec.priors).to_csv(
        db.with_name(f"{db.stem}_posterior_summary.csv"), index=False
    )
    sha = file_sha256(spec.path)
    prov = store.provenance()  # written when the calibration started
    code = (prov.get("git_commit"), prov.get("git_dirty"))
    text = calibrated_scenario_text(spec, result.posterior, posterior_out.name, sha, code)
    scenario_out.write_text(text)
    print(f"calibrated scenario: {scenario_out}; posterior samples: {posterior_out}")
    runs, series = validate(spec, result.posterior, n, backend)
    page_dir = db.with_name(f"{db.stem}_validation")
    page_dir.mkdir(exist_ok=True)
    prov = {k: prov[k] for k in ("calibration_file", "calibration_sha256", "code_version",
                                 "git_commit", "git_dirty") if k in prov}  # fmt: skip
    pngs = write_page(page_dir / "index.html", spec, result.posterior, method, runs, series, prov)
    for i, (_, png) in enumerate(pngs):
        (page_dir / f"figure_{i + 1}.png").write_bytes(png)
    for v in runs:
        v.stats.to_csv(page_dir / f"{v.label.split(',')[0].replace(' ', '_')}.csv", index=False)
    print(f"validation page: {page_dir / 'index.html'}")
