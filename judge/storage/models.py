"""The judge's tables, as SQLAlchemy 2 typed models.

Imports nothing from web/ or worker/. The schema is created and upgraded only by the Alembic
migrations in judge/storage/migrations/ (`judge.storage.migrate`); `Base.metadata` is what
those migrations must match, and tests/unit/test_storage.py checks that they do.

Statuses are string enums stored as their values in plain VARCHAR columns (no database enum
types, so adding a value needs no ALTER TYPE). Verdicts use judge/problems/model.py's
`Verdict`, whose names equal their values. Times are timezone-aware UTC datetimes; SQLite has
no time zones, so `UTCDateTime` stores naive UTC there and gives it back aware. Units live in
names: `time_s`, `memory_mib`, `memory_bytes`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from judge.verdict import Verdict

# Named constraints, so that later migrations can drop or alter them by name on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    CONTESTANT = "contestant"
    ORGANISER = "organiser"
    ADMIN = "admin"


STAFF_ROLES = (Role.ORGANISER, Role.ADMIN)  # see every submission and problem, and organise


class SubmissionState(StrEnum):
    """docs/contracts.md's submission states, in the order a submission goes through them."""

    QUEUED = "queued"
    COMPILING = "compiling"
    RUNNING = "running"
    DONE = "done"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend; naive datetimes are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use an aware one, e.g. datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _str_enum(cls: type[StrEnum], name: str) -> Enum:
    """A StrEnum stored as its values in a VARCHAR(16), with no CHECK and no database type."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[Role] = mapped_column(_str_enum(Role, "role"), default=Role.CONTESTANT)
    password_hash: Mapped[str] = mapped_column(String(255))  # "scrypt$n$r$p$salt$hash", see repo.py
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, role={self.role!r})"


class WebSession(Base):
    """A logged-in page session. The browser's cookie holds the secret; only its SHA-256 is kept,
    so logging out (deleting the row) or changing the password (deleting the user's rows) ends a
    session on the server: a copy of the cookie opens nothing after that."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex sha256 of the secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token. Only the SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex sha256 of the secret
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class Problem(Base):
    __tablename__ = "problems"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug, e.g. "hello"
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)  # the stored package, relative to the data directory
    time_limit_s: Mapped[float] = mapped_column(Float)
    memory_mib: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # `judge verify`'s report as JSON (its --json document), once a worker has verified the package
    verify_report: Mapped[str | None] = mapped_column(Text, default=None)
    verify_ok: Mapped[bool | None] = mapped_column(Boolean, default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)


class PackageArchive(Base):
    """An imported package as stored under the data directory, zipped: what a worker on another
    machine unpacks when its own data directory does not have that version yet."""

    __tablename__ = "package_archives"

    path: Mapped[str] = mapped_column(String(500), primary_key=True)  # as Problem.path: the version
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


contest_problems = Table(
    "contest_problems",
    Base.metadata,
    Column("contest_id", ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True),
    Column("problem_id", ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True),
)


class Contest(Base):
    __tablename__ = "contests"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # after this, contestants see later submissions as pending until the end (None: no freeze)
    freeze_at: Mapped[datetime | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(String(16), default="icpc")  # "icpc" or "scoring"

    problems: Mapped[list[Problem]] = relationship(secondary=contest_problems, order_by=Problem.id)


class Batch(Base):
    """Submissions an organiser sent together (one per contestant), graded and exported together."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submissions: Mapped[list[Submission]] = relationship(back_populates="batch", order_by="Submission.id")


class Submission(Base):
    """A graded submission to a problem, or an ad hoc run (no problem; stdin and limits given)."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint("problem_id IS NOT NULL OR stdin IS NOT NULL", name="problem_or_stdin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    problem_id: Mapped[str | None] = mapped_column(ForeignKey("problems.id"), index=True, default=None)
    language: Mapped[str] = mapped_column(String(32))
    source: Mapped[bytes] = mapped_column(LargeBinary)
    stdin: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    expected_output: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    time_limit_s: Mapped[float | None] = mapped_column(Float, default=None)
    memory_mib: Mapped[int | None] = mapped_column(Integer, default=None)
    state: Mapped[SubmissionState] = mapped_column(
        _str_enum(SubmissionState, "submission_state"), index=True, default=SubmissionState.QUEUED
    )
    verdict: Mapped[Verdict | None] = mapped_column(_str_enum(Verdict, "verdict"), default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    time_s: Mapped[float | None] = mapped_column(Float, default=None)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    compile_output: Mapped[str | None] = mapped_column(Text, default=None)
    callback_url: Mapped[str | None] = mapped_column(Text, default=None)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), index=True, default=None
    )
    label: Mapped[str | None] = mapped_column(String(200), default=None)  # the contestant, in a batch
    # an ad hoc run's own output (a problem's tests keep none): bytes as the program wrote them
    stdout: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    stderr: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)
    signal: Mapped[int | None] = mapped_column(Integer, default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)  # why: IE's cause, a checker's note
    # the Judge0-compatible API names submissions by a UUID (judge/service/judge0.py)
    token: Mapped[str | None] = mapped_column(String(36), unique=True, default=None)
    # an ad hoc run's extra settings as JSON: wall time, arguments, stderr into stdout, the comparison
    options: Mapped[str | None] = mapped_column(Text, default=None)
    # grading's claim (judge/service/leases.py): `generation` counts the times the submission was
    # queued (a rejudge, a reaped grading), every grade task carries the generation it was sent
    # for, and only the holder named in `graded_by` ("<worker>/<pid>") of the current generation
    # may move it on or store its result
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    graded_by: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    tests: Mapped[list[TestResult]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TestResult.index",
    )
    batch: Mapped[Batch | None] = relationship(back_populates="submissions")
    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WebhookDelivery.id",
    )

    def __repr__(self) -> str:
        return f"Submission(id={self.id!r}, state={self.state!r}, verdict={self.verdict!r})"


class TestResult(Base):
    """One test case of one grading of a submission; regrading replaces all of them."""

    __test__ = False  # not a pytest class, whatever its name
    __tablename__ = "test_results"
    __table_args__ = (UniqueConstraint("submission_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)  # 0-based position in the grading order
    name: Mapped[str] = mapped_column(Text)
    verdict: Mapped[Verdict] = mapped_column(_str_enum(Verdict, "verdict"))
    time_s: Mapped[float] = mapped_column(Float)  # cpu time
    wall_s: Mapped[float] = mapped_column(Float)
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)

    submission: Mapped[Submission] = relationship(back_populates="tests")


class WebhookDelivery(Base):
    """One attempt to POST a finished submission to its callback_url: the delivery log."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)  # 1 for the first try
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)  # None: no HTTP answer
    error: Mapped[str | None] = mapped_column(Text, default=None)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="deliveries")
