"""Small pure parts of the calls: URI templates, resource locations, secret names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stigmer.contract.problems import Fault
from stigmer.engine.outbound.resources import local_path
from stigmer.engine.outbound.secrets import SecretSource, names_read
from stigmer.engine.outbound.web import expand
from stigmer.local.embedded import free_port
from stigmer.redaction import Redactor
from stigmer.secrets import SecretStore
from tests.support.listening import until_listening


def test_uri_templates_expand_top_level_scalars() -> None:
    data = {"petId": 7, "q": "a b/c", "flag": True, "none": None}
    assert expand("http://h/pet/{petId}?q={q}&f={flag}&n={none}&m={missing}", data, "/do/0/t") == (
        "http://h/pet/7?q=a%20b%2Fc&f=true&n=&m="
    )
    with pytest.raises(Fault) as fault:
        expand("http://h/{pet}", {"pet": {"id": 1}}, "/do/0/t")
    assert (fault.value.problem.status, fault.value.problem.instance) == (400, "/do/0/t")


def test_local_paths() -> None:
    assert local_path("file:///srv/greet.proto") == Path("/srv/greet.proto")
    assert local_path("file://app/greet.proto") == Path("app/greet.proto")
    assert local_path("file://localhost/srv/x") == Path("/srv/x")
    assert local_path("protos/x.proto") == Path("protos/x.proto")
    assert local_path("https://example.com/x.proto") is None


def test_secret_names_and_sources(tmp_path: Path) -> None:
    assert names_read('$secrets.token + $secrets["api-key"] + $secrets . other') == [
        "token",
        "api-key",
        "other",
    ]
    (tmp_path / "secrets.yaml").write_text(
        "db: {user: user-1, password: pass-2}\napi-key: from-file\n"
    )
    source = SecretSource(SecretStore(tmp_path, {"STIGMER_SECRET_API_KEY": '{"k": 1234}'}))
    redactor = Redactor()
    found = source.lookup(
        ["db", "api-key"], ["db", "api-key"], instance="/do/0/t", redactor=redactor
    )
    assert found == {"db": {"user": "user-1", "password": "pass-2"}, "api-key": {"k": 1234}}
    assert redactor.text("user-1 pass-2 1234 from-file") == "*** *** *** from-file"
    with pytest.raises(Fault) as fault:
        source.lookup(["db"], [], instance="/do/0/t", redactor=redactor)
    assert fault.value.problem.status == 403


def test_a_server_that_never_listens_fails_loudly() -> None:
    port = free_port()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    with pytest.raises(pytest.fail.Exception, match="exited with code 0 before it listened"):
        until_listening(port, process=gone)
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(pytest.fail.Exception, match=r"nothing listened on .* within 1 s"):
            until_listening(port, process=silent, seconds=1)
    finally:
        silent.kill()
        silent.wait(10)
