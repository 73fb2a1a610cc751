"""Shared fixtures: the command line to compare with, and random vectors."""
import json
import os
import subprocess

import numpy
import pytest


def run_cli(*args, check=True):
    """Runs `gradcomp ARGS`; returns the CompletedProcess (text)."""
    cli = os.environ.get("GRADCOMP_CLI")
    if not cli:
        pytest.skip("GRADCOMP_CLI is not set (a build without the command line)")
    result = subprocess.run([cli, *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"gradcomp {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def cli_error(*args):
    """The message `gradcomp ARGS` prints for bad input (exit code 2), without "gradcomp: error: "."""
    result = run_cli(*args, check=False)
    prefix = "gradcomp: error: "
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(prefix), result.stderr
    return result.stderr[len(prefix):].strip()


@pytest.fixture(scope="session")
def cli_catalog():
    return json.loads(run_cli("list", "--json").stdout)


def random_vector(size, dtype, seed=0):
    return numpy.random.default_rng(seed).standard_normal(size).astype(dtype)
