"""Style transfer, offline, on the embedded images: ``python -m practicum.style_demo``.

Writes into ``build/style/`` (or ``--out``):

* ``fast_<style>_<photo>.png``: photo | style | the shipped network's result (one pass);
* ``optimised_<style>_<photo>.png``: photo | style | gradient descent on the image
  (``--steps`` steps with SqueezeNet);
* with ``--experiments``: the handout's 3.5 experiments' figures and numbers
  (``experiments.json``).

Runs ``--impl`` (default: the reference ``solutions/`` where they exist, as in the course
repository, else ``exercises/``, as in the student release). Every figure has one titled
panel per image. A part whose function is still a stub is skipped with one line naming it
(:mod:`practicum.student_run`); the others run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from practicum import REPO_ROOT
from practicum import images as image_io
from practicum.student_run import Stages, default_impl, load


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photo", default="cat_chelsea")
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "style")
    parser.add_argument("--impl", type=Path, default=default_impl())
    parser.add_argument("--experiments", action="store_true")
    options = parser.parse_args(argv)
    style_transfer, fast_style = (
        load(options.impl, name) for name in ("style_transfer", "fast_style")
    )
    out = options.out
    photo = image_io.load_image(image_io.embedded(options.photo), max_side=256, multiple=4)
    style = image_io.load_image(image_io.embedded(options.style), max_side=256)
    report: dict = {}
    stages = Stages()

    def fast() -> str:
        net = fast_style.pretrained(options.style)
        begin = time.perf_counter()
        result = fast_style.stylize(net, photo)
        report["fast_seconds"] = time.perf_counter() - begin
        path = image_io.save_panels(
            [photo, style, result],
            ["photo", f"style: {options.style}", "fast style (one pass)"],
            out / f"fast_{options.style}_{options.photo}.png",
            title="Fast style transfer (the shipped network)",
        )
        return f"{path} ({report['fast_seconds']:.2f} s, first call)"

    def optimised() -> str:
        path = out / f"optimised_{options.style}_{options.photo}.png"
        result = style_transfer.run_style_transfer(
            photo, style, network="squeezenet", steps=options.steps, save_to=path
        )
        report["optimised_seconds"] = result["seconds"]
        report["optimised_loss"] = [result["losses"][0], result["losses"][-1]]
        return (
            f"{path} ({options.steps} steps, {result['seconds']:.1f} s, loss "
            f"{result['losses'][0]:.4g} -> {result['losses'][-1]:.4g}, traced "
            f"{result['tracing_count']} time(s))"
        )

    def run_experiments() -> str:
        from practicum import experiments

        net = fast_style.pretrained(options.style)
        report["repeated"] = experiments.repeated_application(
            net, photo, passes=4, save_to=out / "experiment_repeated.png"
        )
        report["padding"] = experiments.padding_comparison(
            net, photo, save_to=out / "experiment_padding.png"
        )
        others = [name for name in sorted(fast_style.SHIPPED) if name != options.style]
        if others:
            second = fast_style.pretrained(others[0])
            report["chained"] = experiments.chained_vs_direct(
                net, second, photo, save_to=out / "experiment_chained.png"
            )
            report["chained"]["first"], report["chained"]["second"] = options.style, others[0]
        (out / "experiments.json").write_text(json.dumps(report, indent=1))
        return json.dumps(report, indent=1)

    stages.run("fast style transfer", "fast_style", fast)
    stages.run("optimisation", "style_transfer", optimised)
    if options.experiments:
        stages.run("experiments (A3 3.5)", "fast_style", run_experiments)
    report["exit_status"] = stages.finish()
    return report


if __name__ == "__main__":
    sys.exit(main()["exit_status"])
