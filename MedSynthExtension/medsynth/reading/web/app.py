"""The ASGI app behind ``medsynth reading serve``.

Every request names a secret token in its path; the token's hash is looked up in the session
database and decides what the request may see. Images are served by opaque case id, only from
the rows of the session's ``cases`` table and only for cases in the token's reader's order, so no
part of a request path ever becomes a file-system path. The truth key is never opened. Answers go
through :class:`~medsynth.reading.session.ReadingSession` (one transaction each), so the browser,
the Slicer panel and a restarted server all see the same state.

POSTs are CSRF-safe: they must carry ``Content-Type: application/json`` and the custom header
``X-MedSynth: 1`` (neither can be sent cross-site without a CORS preflight, which is never
granted), and an ``Origin`` header, when present, must match the host.

Each answer records how long the case was on screen (:mod:`medsynth.reading.web.timing`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from medsynth.reading import database as db
from medsynth.reading.errors import AnswerError, SessionError
from medsynth.reading.export import answer_table, answers_csv
from medsynth.reading.session import ReadingSession
from medsynth.reading.web.timing import ShownClock
from medsynth.reading.web.tokens import LEAD, READER, Grant, lookup

STATIC = Path(__file__).with_name("static")
_STATIC_FILES = {"niivue.umd.js": "text/javascript", "reader.js": "text/javascript", "reader.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                               "connect-src 'self' blob:; worker-src 'self' blob:; form-action 'none'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store", "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _not_found() -> Response:
    return JSONResponse({"error": "not found"}, status_code=404)


def create_app(session: str | os.PathLike) -> Starlette:
    """The web reader over one session folder (the folder readers get; no key needed)."""
    database = db.resolve_database(session)
    session_dir = database.parent
    clock = ShownClock()

    def grant_of(request: Request) -> Grant | None:
        conn = db.connect(database)
        try:
            return lookup(conn, request.path_params.get("token", ""))
        finally:
            conn.close()

    def case_json(reading: ReadingSession, view) -> dict:
        done, total = reading.progress()
        if view is None:
            return {"done": True, "answered": done, "total": total}
        return {"done": False, "case_id": view.case_id, "position": view.position + 1, "total": view.total,
                "answered": done, "window": view.window, "level": view.level,
                "questions": [q.to_dict() for q in view.questions], "previous": view.previous_answers,
                "allow_revisit": reading.allow_revisit, "title": reading.title,
                "instructions": reading.instructions}

    async def reader_page(request: Request) -> Response:
        grant = grant_of(request)
        if grant is None or grant.role != READER:
            return _not_found()
        return FileResponse(STATIC / "reader.html", media_type="text/html")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC_FILES:
            return _not_found()
        return FileResponse(STATIC / name, media_type=_STATIC_FILES[name])

    async def current_case(request: Request) -> Response:
        grant = grant_of(request)
        if grant is None or grant.role != READER:
            return _not_found()
        with ReadingSession.open(session_dir, grant.reader_id) as reading:
            position = request.query_params.get("position")
            try:
                view = reading.go_to(int(position) - 1) if position else reading.next_case()
            except (ValueError, SessionError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
            if view is not None:
                clock.shown(grant.reader_id, view.case_id)
            return JSONResponse(case_json(reading, view))

    async def image(request: Request) -> Response:
        grant = grant_of(request)
        case_id = request.path_params["case_id"]
        if grant is None or grant.role != READER:
            return _not_found()
        conn = db.connect(database)
        try:
            reader = db.read_reader(conn, grant.reader_id)
            row = db.read_cases(conn).get(case_id)
        finally:
            conn.close()
        if reader is None or row is None or case_id not in reader.case_order:
            return _not_found()
        return FileResponse(session_dir / row.image, media_type="application/octet-stream")

    async def answer(request: Request) -> Response:
        grant = grant_of(request)
        if grant is None or grant.role != READER:
            return _not_found()
        if (request.headers.get("x-medsynth") != "1"
                or request.headers.get("content-type", "").split(";")[0].strip() != "application/json"):
            return JSONResponse({"error": "POSTs need Content-Type application/json and X-MedSynth: 1"}, status_code=403)
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
            return JSONResponse({"error": "cross-origin request refused"}, status_code=403)
        try:
            body = json.loads(await request.body())
            case_id, answers = str(body["case_id"]), body["answers"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "body must be JSON {case_id, answers[, duration_s]}"}, status_code=400)
        duration = clock.duration(grant.reader_id, case_id, body.get("duration_s"))
        with ReadingSession.open(session_dir, grant.reader_id) as reading:
            try:
                reading.answer(case_id, answers, duration_s=duration)
            except AnswerError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except SessionError as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
            done, total = reading.progress()
        clock.answered(grant.reader_id, case_id)
        return JSONResponse({"saved": True, "answered": done, "total": total})

    async def lead(request: Request) -> Response:
        grant = grant_of(request)
        if grant is None or grant.role != LEAD:
            return _not_found()
        conn = db.connect(database)
        try:
            rows = [(r.reader_id, len(db.answered_case_ids(conn, r.reader_id) & set(r.case_order)), len(r.case_order))
                    for r in db.read_readers(conn)]
            title = db.read_meta(conn).get("title", "")
        finally:
            conn.close()
        if request.url.path.endswith(".json"):
            return JSONResponse({"readers": [{"reader": r, "answered": d, "total": t} for r, d, t in rows]})
        from html import escape

        body = "".join(f"<tr><td>{escape(r)}</td><td>{d} / {t}</td></tr>" for r, d, t in rows)
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>Reading progress</title>"
                            f"<h1>{escape(title) or 'Reading study'}: progress</h1>"
                            f"<table><tr><th>Reader</th><th>Answered</th></tr>{body}</table>"
                            '<p><a href="answers.csv" download>Export the answers (CSV, without the truth)</a>. '
                            "Scoring and the analysis report need the truth key, which never reaches this "
                            "server: run <code>medsynth reading analyze SESSION</code> on the lead's machine.</p>")

    async def lead_answers(request: Request) -> Response:
        """Every answer given so far, as ``medsynth reading export`` writes them without the truth."""
        grant = grant_of(request)
        if grant is None or grant.role != LEAD:
            return _not_found()
        columns, rows = answer_table(session_dir)
        return Response(answers_csv(columns, rows), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="answers.csv"'})

    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    return Starlette(middleware=[Middleware(BaseHTTPMiddleware, dispatch=security_headers)], routes=[
        Route("/r/{token}", reader_page),
        Route("/static/{name}", static),
        Route("/api/{token}/case", current_case),
        Route("/api/{token}/image/{case_id}", image),
        Route("/api/{token}/answer", answer, methods=["POST"]),
        Route("/lead/{token}", lead),
        Route("/lead/{token}/progress.json", lead),
        Route("/lead/{token}/answers.csv", lead_answers),
    ])
