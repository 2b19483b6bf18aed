"""On Postgres each service owns its schema through its own role: no service reads another's tables."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from itp.testing import pg_template


@pytest.mark.parametrize("system_overrides", ["kafka-postgres"], indirect=True)
async def test_the_matching_role_cannot_read_the_referral_schema(sut, system_overrides):
    _, overrides = system_overrides
    database = overrides["database_url_template"].rsplit("/", 1)[1]
    matching = create_async_engine(pg_template(database).format(service="matching"))
    referral = create_async_engine(pg_template(database).format(service="referral"))
    try:
        async with referral.connect() as conn:  # the owner can
            assert (await conn.execute(text("SELECT count(*) FROM referral.referrals"))).scalar_one() == 0
        async with matching.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM matching.referrals"))).scalar_one() == 0
            with pytest.raises(DBAPIError, match="permission denied"):
                await conn.execute(text("SELECT * FROM referral.referrals"))
        async with matching.connect() as conn:
            with pytest.raises(DBAPIError, match="permission denied"):
                await conn.execute(text("SELECT * FROM referral.outbox"))
    finally:
        await matching.dispose()
        await referral.dispose()
