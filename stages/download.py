"""Fetch the CIFAR-10 archive named by data.url; it appears at --out only once its md5 matches data.md5."""

import sys

from lib.fetch import dvc_caches, fetch
from lib.params import load, stage_parser
from lib.stage import run


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--out", required=True, help="where the verified archive goes")
    args = parser.parse_args()
    data = load(args.params)["data"]
    print(f"download: {data['url']} -> {args.out}")
    origin = fetch(data["url"], data["md5"], args.out, cache_dirs=dvc_caches(),
                   say=lambda line: print(line, file=sys.stderr))
    print(f"download: {args.out} from {origin}, md5 {data['md5']} verified")


if __name__ == "__main__":
    run(main, tensorflow=False)
