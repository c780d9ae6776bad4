"""Fetch the CIFAR-10 archive named by data.url; it appears at --out only once its md5 matches data.md5."""


from lib.fetch import fetch
from lib.params import load, stage_parser
from lib.stage import run


def dvc_caches():
    """The DVC cache folders that may already hold the archive (none outside a DVC repo)."""
    try:
        from dvc.exceptions import DvcException
        from dvc.repo import Repo
    except ImportError:
        return []
    try:
        with Repo() as repo:
            return [repo.cache.local.path]
    except DvcException:
        return []


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--out", required=True, help="where the verified archive goes")
    args = parser.parse_args()
    data = load(args.params)["data"]
    print(f"download: {data['url']} -> {args.out}")
    origin = fetch(data["url"], data["md5"], args.out, cache_dirs=dvc_caches())
    print(f"download: {args.out} from {origin}, md5 {data['md5']} verified")


if __name__ == "__main__":
    run(main, tensorflow=False)
