from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Programme(SQLModel, table=True):
    """The one row of programme settings; the wire model validates what is stored."""

    __tablename__ = "programme"

    id: int = Field(default=1, primary_key=True)
    settings: Any = Field(sa_column=Column(JSON, nullable=False))
    version: int = 1


class VocabularyCode(SQLModel, table=True):
    __tablename__ = "vocabulary_code"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_vocabulary_code_kind_code"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    code: str = Field(max_length=64)
    label: str = Field(max_length=200)
