"""Style transfer, offline, on the embedded images: ``python -m practicum.style_demo``.

Writes into ``build/style/`` (or ``--out``):

* ``fast_<style>_<photo>.png``: photo | style | the shipped network's result (one pass);
* ``optimised_<style>_<photo>.png``: photo | style | gradient descent on the image
  (``--steps`` steps with SqueezeNet);
* with ``--experiments``: the handout's 3.5 experiments' figures and numbers
  (``experiments.json``).

Runs the reference solutions (``solutions/``) unless ``--impl`` names another folder.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from practicum import REPO_ROOT
from practicum import images as image_io


def load_modules(impl: Path):
    from practicum.grader.proxy import InProcessBackend

    backend = InProcessBackend(impl)
    return backend._load("style_transfer"), backend._load("fast_style")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", default="cat_chelsea")
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "style")
    parser.add_argument("--impl", type=Path, default=REPO_ROOT / "solutions")
    parser.add_argument("--experiments", action="store_true")
    options = parser.parse_args(argv)
    style_transfer, fast_style = load_modules(options.impl)
    out = options.out
    photo = image_io.load_image(image_io.embedded(options.photo), max_side=256, multiple=4)
    style = image_io.load_image(image_io.embedded(options.style), max_side=256)
    report: dict = {}

    net = fast_style.pretrained(options.style)
    begin = time.perf_counter()
    fast = fast_style.stylize(net, photo)
    report["fast_seconds"] = time.perf_counter() - begin
    path = image_io.save_side_by_side([photo, style, fast],
                                      out / f"fast_{options.style}_{options.photo}.png")
    print(f"fast style transfer: {path} ({report['fast_seconds']:.2f} s, first call)")

    result = style_transfer.run_style_transfer(
        photo, style, network="squeezenet", steps=options.steps,
        save_to=out / f"optimised_{options.style}_{options.photo}.png")
    report["optimised_seconds"] = result["seconds"]
    report["optimised_loss"] = [result["losses"][0], result["losses"][-1]]
    print(f"optimisation: {out / f'optimised_{options.style}_{options.photo}.png'} "
          f"({options.steps} steps, {result['seconds']:.1f} s, loss {result['losses'][0]:.4g}"
          f" -> {result['losses'][-1]:.4g}, traced {result['tracing_count']} time(s))")

    if options.experiments:
        from practicum import experiments

        report["repeated"] = experiments.repeated_application(
            net, photo, passes=4, save_to=out / "experiment_repeated.png")
        report["padding"] = experiments.padding_comparison(
            net, photo, save_to=out / "experiment_padding.png")
        others = [name for name in sorted(fast_style.SHIPPED) if name != options.style]
        if others:
            second = fast_style.pretrained(others[0])
            report["chained"] = experiments.chained_vs_direct(
                net, second, photo, save_to=out / "experiment_chained.png")
            report["chained"]["first"], report["chained"]["second"] = options.style, others[0]
        (out / "experiments.json").write_text(json.dumps(report, indent=1))
        print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
