"""The cache never lies: every stage of dvc.yaml lists, among its deps, each project module its script
imports (transitively, lazy imports inside functions included), and no module it does not import."""

import ast
import copy
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "stages"  # the folder on the stages' import path (pyproject's pythonpath, `python stages/x.py`)
SCRIPT = re.compile(r"\bpython3?\s+(stages/[\w/]+\.py)\b")


def module_files(name, root):
    """The project files importing the dotted module `name` runs: each package's __init__.py on the way
    and the module itself (none for a module outside the project)."""
    parts, found = name.split("."), []
    for depth in range(1, len(parts) + 1):
        base = root / SOURCE / Path(*parts[:depth])
        if (base / "__init__.py").is_file():
            found.append(base / "__init__.py")
        elif base.with_suffix(".py").is_file():
            found.append(base.with_suffix(".py"))
            break
        elif not base.is_dir():
            break
    return found


def imported_names(path, root):
    """Every module a file imports, anywhere in it; `from a import b` counts a.b too (b may be a module)."""
    names, package = set(), path.relative_to(root / SOURCE).parent.parts
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            above = package[:len(package) - node.level + 1] if node.level else ()
            base = ".".join((*above, *([node.module] if node.module else [])))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def closure(script, root=ROOT):
    """The project's Python files that running `script` imports, the script included (paths relative to root)."""
    todo, seen = [root / script], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_names(path, root):
            todo.extend(module_files(name, root))
    return {path.relative_to(root).as_posix() for path in seen}


def covered(module, deps):
    return any(module == dep or module.startswith(dep.rstrip("/") + "/") for dep in deps)


def stage_scripts(pipeline):
    """{stage: (its script, its deps)} for every stage of a dvc.yaml, matrix and foreach stages included."""
    found = {}
    for name, stage in pipeline["stages"].items():
        body = stage.get("do", stage)
        cmds = body["cmd"] if isinstance(body["cmd"], list) else [body["cmd"]]
        scripts = {script for cmd in cmds for script in SCRIPT.findall(cmd)}
        assert scripts, f"stage {name}: no `python stages/<verb>.py` in its cmd"
        found[name] = (sorted(scripts), [str(dep) for dep in body.get("deps", [])])
    return found


def dependency_errors(pipeline, root=ROOT):
    """One line per module a stage imports but does not list, and per project module it lists but does not import."""
    errors = []
    for stage, (scripts, deps) in stage_scripts(pipeline).items():
        needed = set().union(*(closure(script, root) for script in scripts))
        errors += [f"stage {stage}: imports {module}, missing from its deps" for module in sorted(needed)
                   if not covered(module, deps)]
        errors += [f"stage {stage}: lists {dep} twice" for dep in sorted(set(deps)) if deps.count(dep) > 1]
        errors += [f"stage {stage}: lists {dep}, which it does not import" for dep in deps
                   if dep.startswith(f"{SOURCE}/") and dep.endswith(".py") and dep not in needed]
    return errors


@pytest.fixture(scope="module")
def pipeline():
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())


def test_every_stage_lists_exactly_the_project_modules_its_script_imports(pipeline):
    assert dependency_errors(pipeline) == []


def test_a_dropped_dependency_is_named_with_its_stage(pipeline):
    broken = copy.deepcopy(pipeline)
    broken["stages"]["train"]["deps"].remove("stages/lib/checkpoints.py")
    broken["stages"]["analyze"]["deps"].remove("stages/lib/__init__.py")
    assert dependency_errors(broken) == ["stage train: imports stages/lib/checkpoints.py, missing from its deps",
                                         "stage analyze: imports stages/lib/__init__.py, missing from its deps"]


def test_a_listed_module_the_script_does_not_import_and_a_repeated_one_are_named(pipeline):
    broken = copy.deepcopy(pipeline)
    broken["stages"]["download"]["deps"] += ["stages/lib/training.py", "stages/lib/fetch.py"]
    assert dependency_errors(broken) == ["stage download: lists stages/lib/fetch.py twice",
                                         "stage download: lists stages/lib/training.py, which it does not import"]


def test_lazy_relative_and_package_imports_are_followed(tmp_path):
    lib = tmp_path / SOURCE / "pkg"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text("")
    (lib / "a.py").write_text("def f():\n    from . import b\n")
    (lib / "b.py").write_text("import pkg.c as c\n")
    (lib / "c.py").write_text("import numpy\n")
    (tmp_path / SOURCE / "run.py").write_text("from pkg.a import f\nimport os\n")
    assert closure(f"{SOURCE}/run.py", tmp_path) == {f"{SOURCE}/run.py", *(f"{SOURCE}/pkg/{name}.py" for name in
                                                                            ("__init__", "a", "b", "c"))}
