"""`greenmine`: the operator command line. Uses the same environment settings as the services.

Services contribute sub-commands through the `greenmine.commands` entry-point group and demo data through
`greenmine.demo_data`, so this module never imports a service. Bad input exits 2 with the reason.

The CLI finds the system it belongs to: `greenmine up` (`make run`) records the addresses it used in
`var/system.env` (`$GREENMINE_VAR/system.env`), and every other command reads them for the variables the
environment does not set (the environment still wins). A server that cannot be reached is one line on stderr
and exit status 1, never a traceback.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC
from importlib.metadata import entry_points
from pathlib import Path

import click

from shared import identity
from shared.config import REPO_ROOT, SERVICES, Settings
from shared.contracts import DEPARTMENT_CODES, ContractRegistry
from shared.demo_accounts import (  # noqa: F401 - also read from here by the launcher and the tests
    DEMO_INSTITUTION,
    DEMO_PASSWORD,
    DEMO_USERS,
    demo_logins,
    routed_departments,
)

SYSTEM_ENV = "system.env"
EXIT_UNREACHABLE = 1
# What `greenmine up` records for the other commands (never a secret itself: at most the file holding it).
RECORDED = ("MONGODB_URI", "KAFKA_BOOTSTRAP_SERVERS", "GREENMINE_DB_PREFIX", "GREENMINE_TOPIC_PREFIX",
            "GREENMINE_KAFKA_SESSION_TIMEOUT_MS", "GREENMINE_KAFKA_HEARTBEAT_MS", "GREENMINE_PUBLIC_URL",
            "GREENMINE_SERVICE_URLS", "GREENMINE_SECRET_KEY_FILE")


class Unreachable(Exception):
    """A server the command needs does not answer (the message is the one line the operator sees)."""


def var_dir(env=None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("GREENMINE_VAR") or REPO_ROOT / "var")


def system_env_path(env=None) -> Path:
    return var_dir(env) / SYSTEM_ENV


def read_system_env(path: Path) -> dict[str, str]:
    """The `NAME=value` lines of a system.env (blank lines and `#` comments skipped); {} when absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def write_system_env(path: Path, env: dict[str, str]) -> None:
    """Record the addresses of a running system for the CLI (called by `greenmine up`)."""
    lines = ["# Written by `greenmine up`: the system it started. greenmine commands read these values for",
             "# the variables the environment does not set.", ""]
    lines += [f"{name}={env[name]}" for name in RECORDED if env.get(name)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def _environment() -> tuple[dict[str, str], dict[str, str]]:
    """(the environment the commands use, the values that came from system.env)."""
    recorded = read_system_env(system_env_path())
    env = dict(os.environ)
    from_file = {name: value for name, value in recorded.items() if name in RECORDED and not env.get(name)}
    env.update(from_file)
    if not env.get("GREENMINE_SECRET_KEY") and not env.get("GREENMINE_SECRET_KEY_FILE"):
        secret = var_dir(env) / "secret_key"
        if secret.exists():
            env["GREENMINE_SECRET_KEY_FILE"] = str(secret)
    return env, from_file


def _settings() -> Settings:
    env, _from_file = _environment()
    log = logging.getLogger("shared.config")
    level = log.level
    if not env.get("GREENMINE_SECRET_KEY") and not env.get("GREENMINE_SECRET_KEY_FILE"):
        # The operator's commands sign nothing: the warning meant for the services would only be noise here.
        log.setLevel(logging.ERROR)
    try:
        return Settings.from_env(env)
    finally:
        log.setLevel(level)


def _origin(name: str) -> str:
    """Where a setting came from, for the one-line error."""
    if os.environ.get(name):
        return f"${name}"
    if name in _environment()[1]:
        return f"recorded by `greenmine up` in {system_env_path()}"
    return f"the default: neither ${name} nor {system_env_path()} gives it"


def _redact(uri: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", uri)


def _mongo(settings: Settings):
    """A MongoDB client that has answered a ping (Unreachable otherwise, within a few seconds)."""
    import pymongo

    from shared.storage import mongo_client

    client = mongo_client(settings.mongodb_uri)
    try:
        with pymongo.timeout(3.0):
            client.admin.command("ping")
    except pymongo.errors.PyMongoError as exc:
        raise Unreachable(f"cannot reach MongoDB at {_redact(settings.mongodb_uri)} ({_origin('MONGODB_URI')}): "
                          f"{type(exc).__name__}; is the system running (`make run`)?") from None
    return client


def _kafka(settings: Settings) -> Settings:
    """The settings, once a Kafka bootstrap server accepts connections (Unreachable otherwise)."""
    from shared.embedded import port_open

    servers = [s.strip().rsplit(":", 1) for s in settings.kafka_bootstrap_servers.split(",") if ":" in s]
    if not any(port_open(host.strip("[]"), int(port), timeout=2.0) for host, port in servers):
        raise Unreachable(f"cannot reach Kafka at {settings.kafka_bootstrap_servers} "
                          f"({_origin('KAFKA_BOOTSTRAP_SERVERS')}); is the system running (`make run`)?")
    return settings


def _fail(message: str, errors: list[dict] | None = None) -> None:
    click.echo(f"错误：{message}", err=True)
    for error in errors or []:
        click.echo(f"  - {error['field']}: {error['message']}", err=True)
    sys.exit(2)


class _Group(click.Group):
    """Adds the sub-commands that services register, loaded only when asked for."""

    def _plugins(self):
        return {ep.name: ep for ep in entry_points(group="greenmine.commands")}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None and name in self._plugins():
            command = self._plugins()[name].load()
        return command

    def invoke(self, ctx):
        """A server that does not answer is one line and exit 1, never a traceback."""
        try:
            return super().invoke(ctx)
        except Unreachable as exc:
            click.echo(f"greenmine: {exc}", err=True)
            ctx.exit(EXIT_UNREACHABLE)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if not _is_connection_error(exc):
                raise
            click.echo(f"greenmine: a server does not answer ({type(exc).__name__}: {str(exc)[:160]}); "
                       f"is the system running? (`make run`)".replace("\n", " "), err=True)
            ctx.exit(EXIT_UNREACHABLE)


def _is_connection_error(exc: Exception) -> bool:
    from kafka import errors as kafka_errors
    from pymongo import errors as mongo_errors

    kinds = [mongo_errors.ConnectionFailure, mongo_errors.ServerSelectionTimeoutError]
    # kafka-python's names vary between versions: whichever of these it has.
    kinds += [getattr(kafka_errors, name) for name in ("NoBrokersAvailable", "KafkaConnectionError",
                                                       "MetadataEmptyBrokerList") if hasattr(kafka_errors, name)]
    return isinstance(exc, tuple(kinds))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Operate greenmine (绿色矿山管理平台)."""


@main.command()
def topics():
    """Create every topic of contracts/topics.yaml with its partitions (idempotent)."""
    from shared.messaging import ensure_topics

    settings = _kafka(_settings())
    for name, outcome in ensure_topics(settings, ContractRegistry.of(settings.contracts_dir)).items():
        click.echo(f"{outcome:8} {name}")


@main.command()
@click.argument("service", type=click.Choice(SERVICES))
def relay(service):
    """Run SERVICE's outbox relay (publishes its outbox to Kafka)."""
    from shared.runtime import run_relay

    run_relay(service, settings=_settings())


@main.command("mail-receiver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8025, show_default=True)
@click.option("--dir", "directory", default=None, help="where to write the .eml files (GREENMINE_MAIL_DIR, var/mail)")
def mail_receiver(host, port, directory):
    """Run the local SMTP receiver: every message is written as <dir>/<timestamp>-<id>.eml."""
    from shared import mail_receiver as receiver

    receiver.serve(host, port, directory or receiver.mail_dir())


@main.group()
def dlq():
    """Dead letters: messages a consumer could not process."""


@dlq.command("list")
@click.option("--service", type=click.Choice(SERVICES), required=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON document per line")
def dlq_list(service, as_json):
    """List SERVICE's dead letters with their reasons."""
    from shared.messaging import list_dead_letters

    settings = _kafka(_settings())
    letters = list_dead_letters(settings, ContractRegistry.of(settings.contracts_dir), service)
    if not letters:
        click.echo(f"{service}: 没有死信")
    for letter in letters:
        if as_json:
            click.echo(json.dumps(letter, ensure_ascii=False))
        else:
            o = letter["original"]
            click.echo(f"offset {letter['dlq']['offset']}  {letter['failed_at']}  "
                       f"{o['topic']}[{o['partition']}]@{o['offset']}  key={o['key']}\n    {letter['reason']}")


@dlq.command("replay")
@click.option("--service", type=click.Choice(SERVICES), required=True)
@click.option("--offset", "offsets", type=int, multiple=True, help="dead-letter offset(s); default all")
def dlq_replay(service, offsets):
    """Re-deliver SERVICE's dead letters to that service alone (topic retry.SERVICE)."""
    from shared.messaging import replay_dead_letters

    settings = _kafka(_settings())
    replayed = replay_dead_letters(settings, ContractRegistry.of(settings.contracts_dir), service,
                                   set(offsets) if offsets else None)
    if offsets and len(replayed) != len(set(offsets)):
        found = {d["dlq"]["offset"] for d in replayed}
        _fail(f"找不到死信 offset {sorted(set(offsets) - found)}")
    click.echo(f"已重放 {len(replayed)} 条死信到 retry.{service}")


@main.group()
def outbox():
    """A service's outbox: the events it has written, before and after the relay sends them."""


@outbox.command("republish")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--since", required=True, help="ISO date or time (UTC unless it names an offset), e.g. 2026-11-30T08:00")
@click.option("--until", default=None, help="optional end, same format (exclusive)")
def outbox_republish(service, since, until):
    """Send SERVICE's events written since SINCE again (after a broker lost them); consumers skip what they had."""
    from datetime import datetime

    from shared.messaging import republish_outbox
    from shared.storage import ServiceStore

    def moment(name: str, text: str):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            _fail(f"--{name}: {text!r} 不是 ISO 日期或时间(如 2026-11-30T08:00)")
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    start, end = moment("since", since), (moment("until", until) if until else None)
    if end is not None and end <= start:
        _fail("--until 须晚于 --since")
    settings = _settings()
    client = _mongo(settings)
    store = ServiceStore(client, settings.database_name(service), ContractRegistry.of(settings.contracts_dir),
                         service, settings.topic_prefix)
    count = republish_outbox(store, start, end)
    click.echo(f"{service}: {count} 个事件已重新排队,由 {service}-relay 按原顺序发送")


@main.group()
def user():
    """User accounts."""


def _directory(settings: Settings) -> identity.UserDirectory:
    return identity.UserDirectory(_mongo(settings)[settings.database_name("identity")])


def _accounts(settings: Settings):
    """The bus of account commands (the same handlers as the portal's pages and API), acting as the operator."""
    from shared.accounts.bootstrap import accounts_bus

    return accounts_bus(settings, client=_mongo(settings))


def _operator():
    from shared.accounts.rules import OPERATOR, REGION, Actor

    return Actor("cli", "admin", REGION, OPERATOR)


def _handle(bus, command, failure: str):
    from shared.errors import DomainError

    try:
        return bus.handle(command)
    except DomainError as exc:
        _fail(f"{failure}：{exc.message}", exc.to_list())


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(sorted(identity.ROLES)), required=True)
@click.option("--department", type=click.Choice(DEPARTMENT_CODES), help="department_reviewer: 附件3 department")
@click.option("--area", help="自治区 or a 盟市 (bureau, department_reviewer)")
@click.option("--county", help="optional 旗县 below the 盟市")
@click.option("--enterprise", help="enterprise: 统一社会信用代码")
@click.option("--institution", help="evaluator: its evaluation institution's id in the register (inst-…)")
@click.option("--name", "display_name", default="", help="display name")
@click.option("--must-change/--no-must-change", default=False, show_default=True,
              help="the user must change the password at the first sign-in")
def user_add(username, role, department, area, county, enterprise, institution, display_name, must_change):
    """Add a user; the password is read from standard input (first line). Audited, like the portal's pages."""
    from shared.accounts.commands import CreateAccount

    bus = _accounts(_settings())     # the database first: no password typed for nothing
    password = sys.stdin.readline().rstrip("\r\n")
    outcome = _handle(bus, CreateAccount(actor=_operator(), username=username, role=role, display_name=display_name,
                                         department=department, area=area, county=county, enterprise=enterprise,
                                         institution=institution, password=password, must_change=must_change),
                      "无法创建用户")
    click.echo(f"已创建用户 {outcome.account['_id']}（{identity.ROLES[role]}）")


@user.command("list")
def user_list():
    """List users (disabled ones marked 已停用)."""
    directory = _directory(_settings())
    disabled = {d["_id"] for d in directory.users.find({"active": False}, projection={"_id": 1})}
    for p in directory.list():
        state = "已停用" if p.username in disabled else ""
        click.echo(f"{p.username:24} {p.role:20} {p.department or '':22} {p.area or '':8} {p.enterprise or ''}"
                   f" {state}".rstrip())


@user.command("disable")
@click.argument("username")
def user_disable(username):
    """Disable an account: its sessions and tokens are refused at once, in every service. Audited."""
    from shared.accounts.commands import DisableAccount

    outcome = _handle(_accounts(_settings()), DisableAccount(actor=_operator(), username=username), "无法修改用户")
    click.echo(f"已停用用户 {username}，结束登录 {outcome.ended_sign_ins} 个")


@user.command("enable")
@click.argument("username")
def user_enable(username):
    """Enable a disabled account again (it signs in anew). Audited."""
    from shared.accounts.commands import EnableAccount

    _handle(_accounts(_settings()), EnableAccount(actor=_operator(), username=username), "无法修改用户")
    click.echo(f"已启用用户 {username}")


@user.command("password")
@click.argument("username")
@click.option("--must-change/--no-must-change", default=False, show_default=True,
              help="the user must change it at the next sign-in")
def user_password(username, must_change):
    """Set a new password, read from standard input (first line); every session and token of the user ends.
    Audited."""
    from shared.accounts.commands import ResetPassword

    bus = _accounts(_settings())
    password = sys.stdin.readline().rstrip("\r\n")
    outcome = _handle(bus, ResetPassword(actor=_operator(), username=username, password=password,
                                         must_change=must_change), "无法修改用户")
    click.echo(f"已修改用户 {username} 的密码，结束登录 {outcome.ended_sign_ins} 个")


@user.command("delete")
@click.argument("username")
def user_delete(username):
    """Delete an account; its sessions and tokens are refused at once. Audited."""
    from shared.accounts.commands import DeleteAccount

    outcome = _handle(_accounts(_settings()), DeleteAccount(actor=_operator(), username=username), "无法修改用户")
    click.echo(f"已删除用户 {username}，结束登录 {outcome.ended_sign_ins} 个")


@user.command("sign-out")
@click.argument("username")
def user_sign_out(username):
    """End every session and token of a user (the account unchanged). Audited."""
    from shared.accounts.commands import EndSignIns

    outcome = _handle(_accounts(_settings()), EndSignIns(actor=_operator(), username=username), "无法修改用户")
    click.echo(f"已结束用户 {username} 的登录 {outcome.ended_sign_ins} 个")


@main.command("demo-data")
def demo_data():
    """Load the demo accounts (one per role, a reviewer for every department of each demo 盟市) and every
    service's demo data. Idempotent: existing accounts are left as they are."""
    import time
    from functools import lru_cache

    from shared.accounts.bootstrap import accounts_bus, hash_password
    from shared.accounts.commands import CreateAccount

    settings = _settings()
    directory = _directory(settings)
    # Every demo account has the same published password: hash it once (argon2 costs ~50-120 ms a time; the demo
    # region has ~80 accounts), not once per account.
    bus = accounts_bus(settings, client=_mongo(settings),
                       dependencies={"hash_password": lru_cache(maxsize=1)(hash_password)})
    started, created = time.monotonic(), 0
    for username, role, options, display_name in DEMO_USERS:
        if directory.get(username) is None:
            _handle(bus, CreateAccount(actor=_operator(), username=username, role=role, display_name=display_name,
                                       password=DEMO_PASSWORD, must_change=False,
                                       email=f"{username}@demo.greenmine.local", **options), "无法创建演示用户")
            created += 1
    click.echo(f"demo accounts: {created} created, {len(DEMO_USERS) - created} already there "
               f"({time.monotonic() - started:.1f}s)")
    for ep in sorted(entry_points(group="greenmine.demo_data"), key=lambda e: e.name):
        click.echo(f"demo data: {ep.name}")
        ep.load()(settings)
    click.echo(f"demo users ready (password {DEMO_PASSWORD}):\n{demo_logins()}")


@main.command("demo-scenario")
@click.option("--url", default=None, help="the running system's URL (default: the one `greenmine up` recorded)")
def demo_scenario(url):
    """Build the demo's cases at every point of the region stage through the public API of a running system
    (`make run` does this after start-up). Each run adds seven cases."""
    from shared.demo_flows import DemoStepFailed
    from shared.demo_scenario import run

    url = url or _environment()[0].get("GREENMINE_PUBLIC_URL")
    if not url:
        _fail("没有运行中的系统地址：请先 `greenmine up`，或用 --url 指定")
    from shared import demo_region

    try:
        run(url, progress=click.echo)
        demo_region.run(url, progress=click.echo)   # the living demo region's cases (idempotent)
    except (DemoStepFailed, OSError) as exc:   # requests' errors are OSErrors
        click.echo(f"演示场景未能完成：{exc}", err=True)
        sys.exit(1)


@main.group()
def catalog():
    """The evaluation index (评价指标) versions in contracts/catalog."""


@catalog.command("list")
def catalog_list():
    """List the published index versions."""
    from shared.catalog import list_catalogs, load_catalog

    for catalog_id in list_catalogs():
        c = load_catalog(catalog_id)
        click.echo(f"{c.id:12} {c.version:10} {c.issued}  {c.title}({len(c.indicators)} 项指标)")


@catalog.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def catalog_check(file):
    """Check a candidate index version before publishing it (exit 2 listing every problem).

    Publishing a new version (the notice lets the coordination office adjust the index) means adding the
    checked file to contracts/catalog/ under a new id and deploying it; old versions are never edited or
    removed, because every stored assessment names the version it was scored under."""
    import yaml

    from shared.catalog import SCHEMA_FILE, CatalogError, _DecimalLoader, catalog_directory, parse_catalog

    path = Path(file)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        _fail(f"无法读取 {file}:{exc}")
    schema = json.loads((catalog_directory() / SCHEMA_FILE).read_text(encoding="utf-8"))
    try:
        checked = parse_catalog(document, schema, expected_id=path.stem)
    except CatalogError as exc:
        _fail(f"评价指标 {exc.catalog_id} 不能发布", [{"field": exc.catalog_id, "message": p} for p in exc.problems])
    click.echo(f"{checked.id}({checked.version})检查通过:{len(checked.indicators)} 项指标,"
               f"{len(checked.prerequisites)} 项先决条件,{checked.binding_count} 项约束性指标")


APP_FACTORIES = {"portal": "shared.portal", **{s: f"{s}.entrypoints.http" for s in SERVICES}}


def openapi_documents(names=None) -> dict[str, str]:
    """{app: OpenAPI JSON text} generated from the marshmallow schemas of every app (or of `names`)."""
    import importlib

    offline = Settings.from_env({"GREENMINE_SECRET_KEY": "openapi", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                                 "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    documents = {}
    for name, module in APP_FACTORIES.items():
        if names is not None and name not in names:
            continue
        app = importlib.import_module(module).create_app(offline)
        spec = app.extensions["greenmine"]["api"].spec.to_dict()
        documents[name] = json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return documents


@main.command()
@click.option("--check", is_flag=True, help="exit 1 if contracts/http differs from the code")
def openapi(check):
    """Write contracts/http/<app>.openapi.json from the code (or check it is up to date)."""
    settings = _settings()
    folder = settings.contracts_dir / "http"
    folder.mkdir(exist_ok=True)
    stale = []
    for name, text in openapi_documents().items():
        path = folder / f"{name}.openapi.json"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            click.echo(f"wrote {path}")
    if stale:
        click.echo("OpenAPI out of date (run `greenmine openapi`): " + ", ".join(stale), err=True)
        sys.exit(1)


@main.command()
@click.option("--port", type=int, default=8080, show_default=True, help="the one URL's port")
@click.option("--no-demo", is_flag=True, help="do not load demo data")
@click.option("--demo-scenario", is_flag=True,
              help="after start-up, build the demo cases of every step through the API (make run does)")
def up(port, no_demo, demo_scenario):
    """Start the whole system (embedded Kafka/MongoDB unless given), print the URL; Ctrl-C stops all."""
    from shared.embedded import EmbeddedServerError
    from shared.launcher import run_system

    try:
        code = run_system(http_port=port, demo=not no_demo, demo_scenario=demo_scenario)
    except EmbeddedServerError as exc:
        click.echo(f"greenmine up: {str(exc).splitlines()[0]}", err=True)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
