"""The style view of the demo: a photo rendered at any alpha (a painted strength map, the
photo's colours kept), the live camera, and "add your painting": a style model of the
user's painting trained while the demo runs (``dynamicnet new-style`` in a process of its
own), previewed from its checkpoints and served as soon as it is saved."""

from __future__ import annotations

import atexit
import io
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ...data.images import pil_to_tensor, resize_longer, tensor_to_pil
from ...errors import DynamicNetError, one_line
from ...extras import MissingExtraError, require
from ...inference import Renderer
from ...inference.color import preserve_color
from ...models import home, is_model_name, user_models_dir
from ...server.context import (
    MAX_PIXELS,
    Alpha,
    DataUrl,
    ImageId,
    ModelName,
    ServerContext,
    check_alpha,
    decode_image,
    painted_map,
    png,
    short,
)
from . import new_style as ns
from .model import TASK

ENDPOINT = "/api/render"
VIEW = "render"  # the page's view: a photo rendered at any alpha, with a before/after divider
FEATURES = ("paint", "per-block", "keep-color", "camera", "compare")  # the photo view's extras it offers
FRAME_ENDPOINT = "/api/frame"  # the camera's: one JPEG frame in, one out
MAX_FRAME_SIDE = 640
MAX_FRAME_BYTES = 2 * 2**20
NEW_STYLE_ENDPOINT = "/api/new-style"  # GET: where the training stands; POST: start one
MAX_PAINTING_BYTES = 25 * 2**20
MAX_PAINTING_SIDE = 1024  # new-style shrinks a painting to this anyway: the copy it gets is no larger
MIN_MINUTES = 1
BODY_LIMITS = {
    FRAME_ENDPOINT: (MAX_FRAME_BYTES, f"frame over {MAX_FRAME_BYTES / 2**20:g} MB"),
    NEW_STYLE_ENDPOINT: (MAX_PAINTING_BYTES + 64 * 2**10, f"painting over {MAX_PAINTING_BYTES / 2**20:g} MB"),
}


class RenderRequest(BaseModel):
    image: ImageId
    model: ModelName
    alpha: Alpha = 0.0
    max_side: int | None = Field(None, ge=8, le=8192, description="shrink for previews")
    alpha_map: DataUrl | None = Field(None, description="PNG data URL; grey level = strength where painted")
    preserve_color: Literal["luminance", "histogram"] | None = Field(
        None, description="keep the photo's colours"
    )


def explain(meta: dict) -> str:
    """One sentence on what alpha means for this model, from its recipe's objective names."""
    recipe = meta.get("recipe") or {}
    main = (recipe.get("main") or {}).get("objective", "the main objective")
    tuned = {t.get("set"): t.get("objective") for t in recipe.get("tune") or []}
    if meta.get("variant") == "dual":
        return (
            f"alpha 0 is the main network ('{main}'); +1 is tuned for '{tuned.get('high', 'high')}' and "
            f"-1 for '{tuned.get('low', 'low')}'; values in between move smoothly."
        )
    if meta.get("variant") == "multi":
        return f"alpha 0 everywhere is the main network ('{main}'); each set's slider adds its own objective."
    target = next(iter(tuned.values()), "the tuned objective")
    return f"alpha 0 is the main network ('{main}'), alpha 1 is tuned for '{target}'; values between blend."


def prepare(model, precision: str) -> Renderer:
    """The server keeps a Renderer: the main network's layers run once per photo and alpha."""
    return Renderer(model, precision=precision)


# ---- add your painting -------------------------------------------------------------------
@dataclass(frozen=True)
class Training:
    """How the demo trains a user's painting (``view_options={"style": {"training": ...}}``).

    ``command`` stands for the ``dynamicnet`` command: the training runs in a process of its
    own, so the server keeps answering, a cancel ends it whatever it is doing, and a crash
    there is a failed training, not a failed server. ``photos`` and ``perceptual`` go to
    ``dynamicnet new-style`` as they are (photos None: the shipped models' own)."""

    command: tuple[str, ...] = (sys.executable, "-m", "dynamicnet.cli.main")
    photos: str | Path | None = None
    perceptual: str = "auto"
    max_minutes: float = 30.0


@dataclass
class _Run:
    id: str
    name: str
    knob: str
    minutes: float
    painting: str
    folder: Path  # new_style.training_dir(name) as it was when the run started
    models: Path  # the user's model folder, likewise
    scratch: Path  # the painting handed over and what the process prints
    process: subprocess.Popen
    started: float = field(default_factory=time.monotonic)
    state: str = "running"  # then finished, failed, or cancelling and cancelled
    error: str | None = None

    @property
    def model_file(self) -> Path:
        return self.models / f"{self.name}.safetensors"


def _last_line(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 8192))
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    lines = [line.strip() for line in lines if line.strip()]
    return short(one_line(lines[-1]), 300) if lines else None


def _painting_stem(filename: str | None) -> str:
    """The painting's name for its model's card and description: the uploaded file's, tamed."""
    stem = re.sub(r"[^\w -]+", "", Path(filename or "").stem, flags=re.ASCII).strip(" -_")
    return stem[:60] or "painting"


def _keep(picture, stem: str) -> Path:
    """The painting as a file for the training process, in a folder of its own."""
    scratch = None
    try:
        scratch = Path(tempfile.mkdtemp(prefix="dynamicnet-painting-"))
        picture.save(scratch / f"{stem}.png")
    except OSError as err:  # a full disk
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise HTTPException(500, f"cannot keep the painting: {short(one_line(str(err)), 200)}") from None
    return scratch / f"{stem}.png"


def _stop(process: subprocess.Popen) -> None:
    """End the training process and whatever it started (its data loader's workers share its
    process group): politely first, then for good."""
    for sig, wait in ((signal.SIGTERM, 10), (getattr(signal, "SIGKILL", signal.SIGTERM), 30)):
        if process.poll() is not None:
            return
        try:
            if hasattr(os, "killpg"):
                os.killpg(process.pid, sig)
            else:
                process.terminate()
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


_LIVE: weakref.WeakSet[_Trainings] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """A server that ends without its shutdown (an error in the program that runs it) still
    ends its training: the process runs in a session of its own and would go on."""
    for trainings in list(_LIVE):
        trainings.cancel(required=False)


class _Trainings:
    """One training at a time: a second would slow both down, and each one's step count was
    set from steps timed with the machine to itself."""

    def __init__(self, server: ServerContext, settings: Training) -> None:
        self.server, self.settings = server, settings
        self.lock = threading.Lock()
        self.run: _Run | None = None
        self.preview_lock = threading.Lock()
        self.preview: tuple[tuple, Renderer] | None = None
        self.missing: dict[str, str | None] = {}
        _LIVE.add(self)

    def unavailable(self, knob: str) -> str | None:
        """Why a painting cannot be trained here, or None."""
        if self.settings.photos is not None:
            return None
        if knob not in self.missing:
            try:
                ns.default_photos(knob)
                self.missing[knob] = None
            except DynamicNetError:
                self.missing[knob] = (
                    "the photos the shipped models were trained on are not on this machine, so the demo "
                    "cannot train a style here: start it with 'dynamicnet demo --photos DIR'"
                )
        return self.missing[knob]

    def _refuse_if_busy(self) -> None:
        run = self.run
        if run is not None and run.state in ("running", "cancelling"):
            raise HTTPException(409, f"a training ({run.name}) is under way: wait for it, or cancel it")

    def _check_name(self, name: str) -> None:
        """As ``dynamicnet new-style`` checks it, and never one the server already serves."""
        if len(name) > 64 or not is_model_name(name):
            message = f"name {short(name)!r}: use lower-case words joined by '-' (e.g. my-monet)"
            raise HTTPException(422, message)
        try:
            ns.check_name(name)
        except ns.NewStyleError as err:
            message = str(err).removeprefix("--").replace("--force replaces it", "choose another")
            raise HTTPException(422, message) from None
        if name in self.server.models:
            raise HTTPException(422, f"name {name}: you already have a model of that name; choose another")
        if ns.training_dir(name).exists():
            raise HTTPException(
                422,
                f"name {name}: an unfinished training of that name is on this machine "
                "(the dynamicnet new-style command that started it continues it); choose another name",
            )

    def start(self, upload: UploadFile, name: str, knob: str, minutes: float) -> dict:
        self._refuse_if_busy()
        if knob not in ns.KNOBS:
            raise HTTPException(422, f"knob must be one of {', '.join(ns.KNOBS)}, got {short(knob)!r}")
        top = self.settings.max_minutes
        if not MIN_MINUTES <= minutes <= top:  # NaN too
            raise HTTPException(422, f"minutes must be {MIN_MINUTES} to {top:g}, got {minutes:g}")
        self._check_name(name)
        reason = self.unavailable(knob)
        if reason:
            raise HTTPException(409, reason)
        stem = _painting_stem(upload.filename)
        with self.server.busy:  # the decoded painting is image-sized
            data = upload.file.read(MAX_PAINTING_BYTES + 1)
            if len(data) > MAX_PAINTING_BYTES:
                raise HTTPException(413, f"painting is over {MAX_PAINTING_BYTES / 2**20:g} MB")
            if not data:
                raise HTTPException(422, "empty upload: send the painting's image file")
            picture = decode_image(data, MAX_PIXELS, "painting")
            del data
            if min(picture.size) < ns.MIN_PAINTING_SIDE:
                raise HTTPException(
                    422,
                    f"the painting is {picture.width}x{picture.height} pixels, too small for a style: "
                    f"give one of at least {ns.MIN_PAINTING_SIDE} px a side",
                )
            if max(picture.size) > MAX_PAINTING_SIDE:
                picture = resize_longer(picture, MAX_PAINTING_SIDE)
            painting = _keep(picture, stem)
            scratch = painting.parent
        try:
            with self.lock:
                self._refuse_if_busy()  # another start may have won meanwhile
                self._check_name(name)
                run = self._launch(name, knob, minutes, painting, scratch)
                self.run = run
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        threading.Thread(target=self._watch, args=(run,), name=f"new-style {name}", daemon=True).start()
        return self.describe(run)

    def _launch(self, name: str, knob: str, minutes: float, painting: Path, scratch: Path) -> _Run:
        settings = self.settings
        argv = [*settings.command, "new-style", str(painting), "--name", name, "--knob", knob]
        argv += ["--minutes", f"{minutes:g}", "--perceptual", settings.perceptual, "--no-progress"]
        if settings.photos is not None:
            argv += ["--photos", str(settings.photos)]
        # the folder the server will look in, whatever the process's platform would pick
        env = {**os.environ, "DYNAMICNET_HOME": str(home()), "PYTHONUNBUFFERED": "1"}
        try:
            with open(scratch / "output.txt", "wb") as out, open(scratch / "stderr.txt", "wb") as err:
                # a session of its own: a Ctrl+C in the terminal reaches the server, whose
                # shutdown ends the training and tidies up after it (see _stop)
                process = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True
                )
        except OSError as err:
            raise HTTPException(500, f"cannot start the training: {short(one_line(str(err)), 200)}") from None
        return _Run(
            secrets.token_urlsafe(6), name, knob, float(minutes), painting.name, ns.training_dir(name),
            user_models_dir(), scratch, process,
        )  # fmt: skip

    def _watch(self, run: _Run) -> None:
        code = run.process.wait()
        with self.lock:
            if run.state != "running":  # a cancel took over: it tidies up
                return
            if code == 0:
                self._serve(run)
            else:
                line = _last_line(run.scratch / "stderr.txt") or ""
                line = re.sub(r"^dynamicnet new-style: error: ", "", line)
                run.state = "failed"
                run.error = line or f"the training stopped (exit status {code})"
                self._discard(run)
            shutil.rmtree(run.scratch, ignore_errors=True)

    def _serve(self, run: _Run) -> None:
        try:
            self.server.add_model(run.name, run.model_file)
        except (DynamicNetError, OSError) as err:
            run.state = "failed"
            run.error = f"the new model cannot be served: {short(one_line(str(err)), 200)}"
        else:
            run.state = "finished"
        shutil.rmtree(run.folder, ignore_errors=True)  # new-style removes it; a stopped one may not have

    def _discard(self, run: _Run) -> None:
        """Nothing of an unfinished run is left: its folder, and a card or contact sheet whose
        model file was never written (new-style writes that last)."""
        shutil.rmtree(run.folder, ignore_errors=True)
        if not run.model_file.exists():
            for suffix in (".md", ".jpg"):
                (run.models / f"{run.name}{suffix}").unlink(missing_ok=True)
        for tmp in run.models.glob(f".{run.name}.*.tmp"):
            tmp.unlink(missing_ok=True)

    def cancel(self, required: bool = True) -> dict | None:
        with self.lock:
            run = self.run
            if run is None or run.state != "running":
                if required:
                    raise HTTPException(409, "no training is under way")
                return None
            run.state = "cancelling"
        _stop(run.process)
        with self.lock:
            if run.model_file.is_file():  # it had saved its model before it stopped: keep it
                self._serve(run)
            else:
                run.state = "cancelled"
                self._discard(run)
            shutil.rmtree(run.scratch, ignore_errors=True)
            self.preview = None
        return self.describe(run)

    def describe(self, run: _Run) -> dict:
        """What the page shows of a run: its state, how far it is, and how long it has left."""
        from ...training.trainer import CHECKPOINT

        progress = None
        if run.state == "running":
            try:
                progress = ns.training_progress(run.name)
            except (OSError, ValueError, KeyError, TypeError):  # a run folder going away meanwhile
                progress = None
        elapsed = time.monotonic() - run.started
        left = max(0.0, run.minutes * 60 - elapsed)  # the budget, until steps are logged
        if progress is None:
            phase = "preparing"
        elif progress.done < progress.total:
            phase = "training"
            if progress.seconds_left is not None:
                left = max(left, progress.seconds_left)
        else:
            phase, left = "measuring", None
        try:
            checkpoint = (run.folder / CHECKPOINT).stat().st_mtime if run.state == "running" else None
        except OSError:
            checkpoint = None
        return {
            "id": run.id, "name": run.name, "knob": run.knob, "minutes": run.minutes,
            "painting": run.painting,
            "state": run.state, "phase": phase if run.state == "running" else run.state,
            "done": progress.done if progress else 0, "total": progress.total if progress else None,
            "stage": progress.stage if progress else None,
            "seconds_left": round(left, 1) if left is not None and run.state == "running" else None,
            "elapsed": round(elapsed, 1), "checkpoint": checkpoint,
            "error": run.error, "model": run.name if run.state == "finished" else None,
        }  # fmt: skip

    def status(self) -> dict:
        run = self.run
        knobs = {k: v.meaning for k, v in ns.KNOBS.items()}
        reason = next((r for r in map(self.unavailable, ns.KNOBS) if r), None)
        return {
            "available": reason is None, "reason": reason, "knobs": knobs,
            "minutes": [MIN_MINUTES, self.settings.max_minutes],
            "training": self.describe(run) if run is not None else None,
        }  # fmt: skip

    def renderer(self) -> Renderer:
        """The model as of the run's latest checkpoint (the finished model once it is served),
        rebuilt only when a new checkpoint lands."""
        from ...training.trainer import CHECKPOINT

        run = self.run
        if run is None:
            raise HTTPException(404, "no training to preview: start one")
        if run.state == "finished":
            return self.server.model(run.name, TASK)
        not_yet = HTTPException(404, "no preview yet: it comes with the training's first checkpoint")
        if run.state != "running":
            raise HTTPException(404, f"the training of {run.name} was {run.state}: nothing to preview")
        try:
            key = (run.id, (run.folder / CHECKPOINT).stat().st_mtime_ns)
        except OSError:
            raise not_yet from None
        with self.preview_lock:
            if self.preview is None or self.preview[0] != key:
                try:
                    model = ns.preview_model(run.name)
                except (OSError, ValueError, KeyError, RuntimeError):  # the run ended meanwhile
                    model = None
                if model is None:
                    raise not_yet
                self.preview = (key, self.server.loaders[TASK](model))
            return self.preview[1]


def _training_settings(server: ServerContext) -> Training:
    given = (server.options.get(TASK) or {}).get("training", Training())
    return Training(**given) if isinstance(given, Mapping) else given


def add_routes(app: FastAPI, server: ServerContext) -> None:
    def renderer(name: str) -> Renderer:
        return server.model(name, TASK)

    @app.post(ENDPOINT)
    def render(request: RenderRequest) -> Response:
        fast = renderer(request.model)
        photo = server.store.get(request.image)
        alpha = request.alpha
        check_alpha(fast, alpha)
        if request.preserve_color == "histogram":
            try:
                require("skimage", "studies", "the histogram colour method")
            except MissingExtraError as err:
                raise HTTPException(422, str(err)) from err
        if request.alpha_map is not None and not (
            isinstance(alpha, (int, float)) or (isinstance(alpha, dict) and fast.net.variant == "multi")
        ):
            raise HTTPException(
                422, "alpha_map combines with one alpha (or one per set), not per-block values"
            )
        with server.busy:  # every large buffer of a request lives inside: memory stays bounded
            image = photo.image(request.max_side)
            if request.alpha_map is not None:
                strength = painted_map(request.alpha_map, tuple(image.shape[-2:]), "alpha_map")
                if isinstance(alpha, dict):
                    alpha = {k: strength * v for k, v in alpha.items()}
                else:
                    alpha = strength * float(alpha)
            out = fast(image, alpha=alpha).clamp(0, 1)
            if request.preserve_color:
                out = preserve_color(out, image, request.preserve_color)
            return png(out)

    @app.post(FRAME_ENDPOINT)
    async def frame(
        request: Request, model: ModelName, alpha: Annotated[float, Field(ge=-1000, le=1000)] = 1.0
    ) -> Response:
        """One camera frame (a JPEG body of at most 640 x 640 pixels) stylized, as a JPEG:
        the live camera view sends frames one after the other."""
        fast = renderer(model)
        check_alpha(fast, alpha)
        data = await request.body()  # at most MAX_FRAME_BYTES: see the body limits
        if not data:
            raise HTTPException(422, "send the frame (a JPEG) as the request body")

        def stylize() -> bytes:
            with server.busy:
                picture = decode_image(data, MAX_FRAME_SIDE**2, "frame")
                if max(picture.size) > MAX_FRAME_SIDE:
                    raise HTTPException(413, f"frames are at most {MAX_FRAME_SIDE} pixels a side")
                out = fast(pil_to_tensor(picture), alpha=alpha)
                buffer = io.BytesIO()
                tensor_to_pil(out).save(buffer, format="JPEG", quality=85)
                return buffer.getvalue()

        return Response(await run_in_threadpool(stylize), media_type="image/jpeg")

    trainings = _Trainings(server, _training_settings(server))
    server.on_shutdown.append(lambda: trainings.cancel(required=False))

    @app.get(NEW_STYLE_ENDPOINT)
    def new_style_status() -> dict:
        """Whether the demo can train here, its choices, and the latest training's state."""
        return trainings.status()

    @app.post(NEW_STYLE_ENDPOINT, status_code=202)
    def start_new_style(
        file: Annotated[UploadFile, File()],
        name: Annotated[str, Form(max_length=200)],
        knob: Annotated[str, Form(max_length=50)] = "level",
        minutes: Annotated[float, Form()] = 10.0,
    ) -> dict:
        """Train a style model of the painting in ``file`` in about ``minutes``, in the
        background; it is served as ``name`` once saved (the page polls the status)."""
        return trainings.start(file, name.strip(), knob, minutes)

    @app.post(NEW_STYLE_ENDPOINT + "/cancel")
    def cancel_new_style() -> dict:
        return trainings.cancel()

    @app.get(NEW_STYLE_ENDPOINT + "/preview")
    def preview_new_style(
        image: ImageId,
        alpha: Annotated[float, Query(ge=-1000, le=1000)] = 1.0,
        max_side: Annotated[int, Query(ge=16, le=512)] = 256,
    ) -> Response:
        """The photo ``image`` rendered by the model being trained, small: how it is coming on."""
        photo = server.store.get(image)
        with server.busy:  # rebuilding the model and the render both hold memory
            fast = trainings.renderer()
            check_alpha(fast, alpha)
            return png(fast(photo.image(max_side), alpha=alpha).clamp(0, 1))
