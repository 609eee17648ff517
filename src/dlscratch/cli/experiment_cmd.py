"""`dlscratch experiment NAME|all`: redraw the course's figures and numbers."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub):
    p = sub.add_parser("experiment", help="reproduce the course's experiments (NAME or all)")
    p.add_argument("name", nargs="?", help="experiment name, 'all' (see --list), or 'report' "
                                           "(rebuild report.html and summary.md from the "
                                           "NAME.json files already in --out)")
    p.add_argument("--list", action="store_true", help="list the experiments in course order")
    p.add_argument("--quick", action="store_true", help="small data and few iterations")
    p.add_argument("--out", default="experiments-out", help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, help="processes for parallel experiments")
    p.add_argument("--cache", help="folder of trained models reused across runs (full mode; "
                                   "default ~/.cache/dlscratch/experiments)")
    p.add_argument("--no-cache", action="store_true", help="always retrain")
    p.add_argument("--reuse-run", action="append", default=[], metavar="DIR",
                   help="a 'dlscratch train' output folder whose model an experiment may reuse "
                        "when its settings are the same training (repeatable)")
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/")
    p.add_argument("--lang", choices=("en", "ko"), default="en",
                   help="language of report.html and of the figures' titles, axes and legends "
                        "(ko: Korean; needs a font with Hangul, e.g. Debian's fonts-nanum)")
    p.set_defaults(run=run)


def run(args) -> int:
    from dlscratch.experiments.base import Context, default_cache_dir
    from dlscratch.experiments.registry import EXPERIMENTS, get_experiment
    from dlscratch.experiments.runner import run_all, run_experiment

    if args.list or not args.name:
        for module in EXPERIMENTS:
            info = module.INFO
            print(f"{info.number:>3}  {info.name:<24} {info.title}  ({info.title_ko})")
        return 0
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    cache = None if args.no_cache else Path(args.cache) if args.cache else default_cache_dir()
    ctx = Context(quick=args.quick, seed=args.seed, out_dir=Path(args.out), cache_dir=cache,
                  data_dir=args.data_dir, workers=args.workers,
                  reuse_runs=args.reuse_run, lang=args.lang)
    if args.name == "report":
        from dlscratch.experiments.records import read_records
        from dlscratch.experiments.report import write_report

        records = read_records(ctx.out_dir)  # RecordError (file and field) if one is not valid
        if not records:
            raise ValueError(f"no experiment results (NAME.json) in {ctx.out_dir}")
        print(f"wrote {write_report(ctx.out_dir, records, ctx.lang)} ({len(records)} "
              f"experiments)")
        _print_quick_labels(records)
    elif args.name == "all":
        _print_quick_labels(run_all(ctx))
        print(f"wrote {ctx.out_dir / 'report.html'}")
    else:
        get_experiment(args.name)
        run_experiment(args.name, ctx)
        print(f"wrote {ctx.out_dir / args.name}.png and .json")
    return 0


def _print_quick_labels(records: list[dict]) -> None:
    """One closing line naming the quick results below the course's value (each experiment's
    own line already says why)."""
    from dlscratch.experiments.base import FULL_REPORT, QUICK_LABEL
    from dlscratch.experiments.records import falls_short

    short = [rec["name"] for rec in records if falls_short(rec)]
    if short:
        line = (f"{QUICK_LABEL}: {len(short)} quick result(s) below the course's value "
                f"({', '.join(short)}); the full run: {FULL_REPORT}")
        print("".join(c if c.isprintable() else "?" for c in line))  # names from the records
