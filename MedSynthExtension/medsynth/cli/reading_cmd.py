"""``medsynth reading``: create, check, export and analyse reader studies (real vs synthetic)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medsynth.io.guard import declare

EPILOG = """examples:
  medsynth reading create --real real/ --synthetic mri2ct=synth/ --readers r1,r2 --out sessions/s1
  medsynth reading create --study study.yaml --out sessions/s1
  medsynth reading progress sessions/s1
  medsynth reading export sessions/s1 answers.csv --with-truth
  medsynth reading analyze sessions/s1 --report report.html
  medsynth reading plan --margin 0.6 --readers 5
The truth key is written beside the session folder (sessions/s1.truth-key.json); give readers
only the session folder."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reading", help="blinded reader studies of real vs synthetic images",
        description="Blinded, randomised, crash-safe reader studies of real vs synthetic images.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="reading_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="build a session from a study file or from real/synthetic folders",
                                description="Build a reading session: blinded images, per-reader orders, "
                                            "answer database, and the truth key beside the session folder.")
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--study", type=Path, help="study definition (.json, .yaml)")
    source.add_argument("--real", type=Path, help="folder of real images (files or DICOM series folders)")
    create.add_argument("--synthetic", action="append", default=[], metavar="[GENERATOR=]DIR",
                        help="folder of synthetic images; repeat for several generators (default name: the folder's)")
    create.add_argument("--out", type=Path, required=True, help="new session folder")
    create.add_argument("--key", type=Path, help="truth key path (default: <out>.truth-key.json beside the folder)")
    create.add_argument("--readers", help="comma-separated reader ids (with --real)")
    create.add_argument("--seed", type=int, help="seed of the per-reader orders (with --real; default: random, recorded)")
    create.add_argument("--window-level", help="preset (CT_BRAIN, CT_BONE, CT_AIR, CT_ABDOMEN) or WIDTH,LEVEL (with --real)")
    create.add_argument("--allow-revisit", action="store_true", help="let readers go back and change answers (with --real)")
    create.add_argument("--pair-by-name", action="store_true",
                        help="pair synthetic images with the real image of the same name (never shown back to back)")
    create.add_argument("--study-id", default="reader-study", help="study id (with --real)")
    create.add_argument("--title", default="", help="study title (with --real)")
    create.add_argument("--save-study", type=Path, help="also write the study definition (.json; contains the truth)")
    create.set_defaults(func=_create)
    declare(create, inputs=("study", "real"), outputs={"key": (".json",), "save_study": (".json",)}, out_dirs=("out",))

    validate = actions.add_parser("validate", help="check a study file and report every problem",
                                  description="Check a study definition file without building anything.")
    validate.add_argument("study", type=Path)
    validate.set_defaults(func=_validate)

    add = actions.add_parser("add-reader", help="give a new reader their own order in a session",
                             description="Add a reader to an existing session (needs the truth key to keep pairs apart).")
    add.add_argument("session", type=Path)
    add.add_argument("reader")
    add.add_argument("--key", type=Path, help="truth key (default: beside the session folder)")
    add.set_defaults(func=_add_reader)

    progress = actions.add_parser("progress", help="show how far each reader is (no truth needed)",
                                  description="Show answered/total cases per reader.")
    progress.add_argument("session", type=Path)
    progress.add_argument("--json", action="store_true", help="print JSON")
    progress.set_defaults(func=_progress)

    export = actions.add_parser("export", help="export answers to CSV or JSON",
                                description="Export answers (blinded, or joined with the truth) to .csv or .json.")
    export.add_argument("session", type=Path)
    export.add_argument("output", type=Path, help="output file (.csv or .json)")
    export.add_argument("--with-truth", action="store_true", help="add truth, generator and correctness (needs the key)")
    export.add_argument("--key", type=Path, help="truth key (default: beside the session folder)")
    export.add_argument("--history", action="store_true", help="every answer given, revisions included")
    export.set_defaults(func=_export)
    declare(export, inputs=("session", "key"), outputs={"output": (".csv", ".json")})

    analyze = actions.add_parser("analyze", help="statistics, verdict and report",
                                 description="Accuracy vs chance (Wilson CI, exact binomial test), sensitivity/"
                                             "specificity, ROC AUC, Fleiss' kappa, Likert summaries with ICC(2,1) and "
                                             "Krippendorff's alpha, per-generator breakdown, and the acceptance verdict.")
    analyze.add_argument("session", type=Path)
    analyze.add_argument("--key", type=Path, help="truth key (default: beside the session folder)")
    analyze.add_argument("--report", type=Path,
                         help="report file, .html or .md (default: <session>.report.html beside the folder)")
    analyze.add_argument("--json", action="store_true", help="print the full analysis as JSON instead of the summary")
    analyze.set_defaults(func=_analyze)

    plan = actions.add_parser("plan", help="how many cases a study needs to show accuracy below a margin",
                              description="Cases (each read by every reader) for the upper bound of accuracy, "
                                          "cases and readers random, to fall below the margin with the given power "
                                          "when readers truly are at the expected accuracy.")
    plan.add_argument("--margin", type=float, default=0.6, help="acceptance margin (default 0.6)")
    plan.add_argument("--readers", type=int, required=True, help="number of readers")
    plan.add_argument("--expected", type=float, default=0.5, help="assumed true accuracy (default 0.5)")
    plan.add_argument("--power", type=float, default=0.8, help="wanted power (default 0.8)")
    plan.add_argument("--confidence", type=float, default=0.95, help="one-sided confidence of the bound (default 0.95)")
    plan.add_argument("--reader-sd", type=float, default=0.05, help="assumed SD of accuracy between readers (default 0.05)")
    plan.add_argument("--case-sd", type=float, default=0.15, help="assumed SD of accuracy between cases (default 0.15)")
    plan.set_defaults(func=_plan)

    serve = actions.add_parser("serve", help="serve the session to browsers (web reader; needs the 'web' extra)",
                               description="Web reader over the session database: readers open the link from "
                                           "'medsynth reading invite'. Put a TLS reverse proxy in front for remote readers.")
    serve.add_argument("session", type=Path)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(func=_serve)

    invite = actions.add_parser("invite", help="print a personal web-reader link for a reader (or --lead)",
                                description="Issue a secret link; only its hash is stored in the session.")
    invite.add_argument("session", type=Path)
    invite.add_argument("reader", nargs="?", help="reader id (omit with --lead)")
    invite.add_argument("--lead", action="store_true", help="a dashboard link for the study lead")
    invite.add_argument("--base-url", default="http://127.0.0.1:8000",
                        help="public address of the server (default http://127.0.0.1:8000)")
    invite.set_defaults(func=_invite)


def _create(args: argparse.Namespace) -> int:
    from medsynth.reading.build import build_session
    from medsynth.reading.create import study_from_folders
    from medsynth.reading.errors import StudyError
    from medsynth.reading.margin import size_warnings
    from medsynth.reading.study import blinding_warnings, load_study, save_study

    if args.study:
        folder_only = {"--synthetic": args.synthetic, "--readers": args.readers is not None, "--seed": args.seed is not None,
                       "--window-level": args.window_level, "--allow-revisit": args.allow_revisit,
                       "--pair-by-name": args.pair_by_name, "--title": args.title,
                       "--study-id": args.study_id != "reader-study"}
        given = [option for option, value in folder_only.items() if value]
        if given:
            raise StudyError(f"{', '.join(given)} only apply with --real; with --study, set them in the study file.")
        study = load_study(args.study)
    else:
        if not args.synthetic:
            raise StudyError("Give at least one --synthetic folder with --real.")
        readers = [r.strip() for r in (args.readers or "").split(",") if r.strip()]
        if args.readers is not None and not readers:
            raise StudyError(f"--readers {args.readers!r} names no reader; give comma-separated ids (r1,r2) or leave "
                             "the option out and add readers later with 'medsynth reading add-reader'.")
        study = study_from_folders(
            args.real, _synthetic_folders(args.synthetic), study_id=args.study_id, title=args.title,
            readers=readers, seed=args.seed,
            window_level=_window_level(args.window_level), allow_revisit=args.allow_revisit,
            pair_by_name=args.pair_by_name)
    if args.save_study:
        save_study(study, args.save_study)
    for warning in blinding_warnings(study) + size_warnings(study):
        print(f"medsynth: warning: {warning}", file=sys.stderr)
    built = build_session(study, args.out, key_path=args.key)
    print(f"Session: {built.session_dir} ({built.n_cases} cases, readers: {', '.join(built.reader_ids) or 'none'})")
    print(f"Truth key: {built.key_path} (keep it away from readers)")
    print(f"Seed: {built.seed}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from medsynth.reading.study import REAL, blinding_warnings, load_study

    study = load_study(args.study)
    n_real = sum(c.truth == REAL for c in study.cases)
    print(f"OK: {args.study}: {len(study.cases)} cases ({n_real} real, {len(study.cases) - n_real} synthetic), "
          f"{len(study.questions)} questions, {len(study.readers)} readers, {len(study.acceptance)} criteria")
    from medsynth.reading.margin import size_warnings

    for warning in blinding_warnings(study) + size_warnings(study):
        print(f"warning: {warning}")
    return 0


def _add_reader(args: argparse.Namespace) -> int:
    from medsynth.reading.build import add_reader

    order = add_reader(args.session, args.reader, args.key)
    print(f"Reader {args.reader}: {len(order)} cases")
    return 0


def _progress(args: argparse.Namespace) -> int:
    from medsynth.reading import database as db

    conn = db.connect(db.resolve_database(args.session))
    try:
        db.read_meta(conn)
        done = {}
        for record in db.read_answers(conn):
            done[record.reader_id] = done.get(record.reader_id, 0) + 1
        rows = [{"reader_id": r.reader_id, "done": done.get(r.reader_id, 0), "total": len(r.case_order)}
                for r in db.read_readers(conn)]
    finally:
        conn.close()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['reader_id']}: {row['done']}/{row['total']}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from medsynth.reading.export import export_answers

    path = export_answers(args.session, args.output, key_path=args.key, with_truth=args.with_truth,
                          history=args.history)
    print(f"Wrote {path}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from medsynth.reading.analysis import analyze_session
    from medsynth.reading.report import format_summary, write_report

    analysis = analyze_session(args.session, args.key)
    session = Path(args.session).resolve()
    if session.suffix == ".sqlite":
        session = session.parent
    report = args.report or session.parent / f"{session.name}.report.html"
    written = write_report(analysis, report)
    if args.json:
        print(json.dumps({**analysis.to_dict(), "report": [str(p) for p in written]}, indent=2))
    else:
        print(format_summary(analysis))
        print(f"Report: {written[0]}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from medsynth.errors import InputError
    from medsynth.reading.margin import plan_cases

    try:
        n = plan_cases(args.margin, args.readers, args.expected, args.power, args.confidence,
                       args.reader_sd, args.case_sd)
    except ValueError as exc:
        raise InputError(f"reading plan: {exc}.") from None
    if n is None:
        more = next((r for r in range(args.readers + 1, 101)
                     if plan_cases(args.margin, r, args.expected, args.power, args.confidence,
                                   args.reader_sd, args.case_sd) is not None), None)
        hint = f"; {more} readers would do it" if more else ""
        print(f"No number of cases gives {args.power:.0%} power with {args.readers} reader(s): the spread between "
              f"readers (SD {args.reader_sd:g}) alone keeps the bound above {args.margin:g}{hint}.")
        return 1
    scope = " (the bound then covers new cases for that reader, not new readers)" if args.readers == 1 else ""
    print(f"{n} cases for {args.power:.0%} power: upper {args.confidence:.0%} bound of accuracy below "
          f"{args.margin:g} with {args.readers} reader(s) at true accuracy {args.expected:g} "
          f"(reader SD {args.reader_sd:g}, case SD {args.case_sd:g}){scope}.")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from medsynth.errors import InputError

    try:
        import uvicorn

        from medsynth.reading.web.app import create_app
    except ImportError:
        raise InputError("The web reader needs Starlette and uvicorn: pip install 'medsynth[web]'.") from None
    app = create_app(args.session)
    print(f"Serving {args.session} on http://{args.host}:{args.port} (Ctrl+C to stop)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False)
    return 0


def _invite(args: argparse.Namespace) -> int:
    from medsynth.errors import InputError
    from medsynth.reading.web.tokens import issue_token

    if args.lead == bool(args.reader):
        raise InputError("Give a reader id, or --lead for the dashboard link (not both).")
    token = issue_token(args.session, None if args.lead else args.reader)
    print(f"{args.base_url.rstrip('/')}/{'lead' if args.lead else 'r'}/{token}")
    return 0


def _synthetic_folders(values: list[str]) -> dict[str, Path]:
    from medsynth.reading.errors import StudyError

    folders: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep:
            folder, name = value, Path(value.rstrip("/\\")).name
        if not name or not folder:
            raise StudyError(f"--synthetic {value!r}: use DIR or GENERATOR=DIR.")
        if name in folders:
            raise StudyError(f"Generator {name!r} is given twice; name each --synthetic folder (GENERATOR=DIR).")
        folders[name] = Path(folder)
    return folders


def _window_level(value: str | None):
    from medsynth.reading.errors import StudyError
    from medsynth.reading.study import WINDOW_LEVEL_PRESETS, WindowLevel

    if not value or value.lower() == "auto":
        return None
    preset = WINDOW_LEVEL_PRESETS.get(value.upper().replace("-", "_"))
    if preset:
        return WindowLevel(*preset)
    try:
        width, level = (float(v) for v in value.split(","))
    except ValueError:
        raise StudyError(f"--window-level {value!r}: use a preset ({', '.join(WINDOW_LEVEL_PRESETS)}) "
                         "or WIDTH,LEVEL such as 100,50.") from None
    if width <= 0:
        raise StudyError("--window-level: the width must be positive.")
    return WindowLevel(width, level)
