"""growth: clicks, campaigns, leaderboard counters, contests, fraud signals, the audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_created_at"), ["created_at"], unique=False)

    op.create_table(
        "contest",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("prizes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest")),
    )
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_ends_at"), ["ends_at"], unique=False)

    op.create_table(
        "campaign",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("owner_key", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_campaign_owner_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("owner_key", "slug", name=op.f("uq_campaign_owner_key_slug")),
    )
    op.create_table(
        "contest_winner",
        sa.Column(
            "contest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("prize", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contest.id"],
            name=op.f("fk_contest_winner_contest_id_contest"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_contest_winner_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contest_id", "user_id", name=op.f("pk_contest_winner")),
    )
    op.create_table(
        "referrer_score",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column(
            "referrer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("joined", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("qualified", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["user.id"],
            name=op.f("fk_referrer_score_referrer_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "period", "period_start", "referrer_id", name=op.f("pk_referrer_score")
        ),
    )
    with op.batch_alter_table("referrer_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referrer_score_period_period_start_joined",
            ["period", "period_start", "joined"],
            unique=False,
        )
        batch_op.create_index(
            "ix_referrer_score_period_period_start_qualified",
            ["period", "period_start", "qualified"],
            unique=False,
        )

    op.create_table(
        "invite_click",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("invite_code", sa.String(length=6), nullable=True),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "converted_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_invite_click_campaign_id_campaign"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["converted_user_id"],
            ["user.id"],
            name=op.f("fk_invite_click_converted_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_click")),
    )
    with op.batch_alter_table("invite_click", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invite_click_campaign_id_created_at", ["campaign_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_invite_click_invite_code_created_at", ["invite_code", "created_at"], unique=False
        )
        batch_op.create_index("ix_invite_click_telegram_id_id", ["telegram_id", "id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_signals", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("signup_client", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("last_client", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.create_index("ix_user_qualified_at", ["qualified_at"], unique=False)
        batch_op.create_index("ix_user_referred_at", ["referred_at"], unique=False)
        batch_op.create_index("ix_user_referrer_id_phone", ["referrer_id", "phone"], unique=False)
        batch_op.create_index(
            "ix_user_referrer_id_qualified_at", ["referrer_id", "qualified_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_campaign_id_campaign"),
            "campaign",
            ["campaign_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_user_campaign_id_campaign"), type_="foreignkey")
        batch_op.drop_index("ix_user_referrer_id_qualified_at")
        batch_op.drop_index("ix_user_referrer_id_phone")
        batch_op.drop_index("ix_user_referred_at")
        batch_op.drop_index("ix_user_qualified_at")
        batch_op.drop_column("is_admin")
        batch_op.drop_column("last_client")
        batch_op.drop_column("signup_client")
        batch_op.drop_column("campaign_id")
        batch_op.drop_column("referral_signals")

    with op.batch_alter_table("invite_click", schema=None) as batch_op:
        batch_op.drop_index("ix_invite_click_telegram_id_id")
        batch_op.drop_index("ix_invite_click_invite_code_created_at")
        batch_op.drop_index("ix_invite_click_campaign_id_created_at")

    op.drop_table("invite_click")
    with op.batch_alter_table("referrer_score", schema=None) as batch_op:
        batch_op.drop_index("ix_referrer_score_period_period_start_qualified")
        batch_op.drop_index("ix_referrer_score_period_period_start_joined")

    op.drop_table("referrer_score")
    op.drop_table("contest_winner")
    op.drop_table("campaign")
    with op.batch_alter_table("contest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_ends_at"))

    op.drop_table("contest")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_created_at"))

    op.drop_table("audit_log")
