"""`billing_usage_record(...)`: check and track in one statement, for their common case.

Called by billing.services.usage_fast_path, which documents what it does; the rules it applies
are those of billing.entitlement_rules (Standing.cap_allows, may_use, threshold_level) written
in SQL, and tests compare its answers and writes with the full path's.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION billing_usage_record(
    p_mode text,                -- 'peek' (plain check), 'check' (check with sendEvent), 'track'
    p_key_hash text,            -- SHA-256 of the caller's API key
    p_customer text,            -- the customer's external id
    p_feature text,             -- the feature's slug
    p_entity_key text,          -- entityId, or ''
    p_amount numeric,           -- track: the amount; check: requiredBalance
    p_idempotency_key text,     -- track's idempotencyKey, or null
    p_metadata jsonb,           -- track's metadata, or null
    p_event_id text,            -- the id of the usage event a write appends
    p_wall timestamptz,         -- the server's wall clock (cynco.clock.wall_now)
    p_stale_before timestamptz, -- a key last used at or before this is stamped by the full path
    p_lock_wait text,           -- lock_timeout while waiting for the customer's lock, e.g. '5000ms'
    OUT o_outcome text,         -- fallback | standing | recorded | duplicate | capped | denied
    OUT o_boolean boolean,      -- the feature is a boolean one (peek only)
    OUT o_has_balance boolean,
    OUT o_granted numeric,
    OUT o_used numeric,
    OUT o_reserved numeric,
    OUT o_unlimited boolean,
    OUT o_overage_allowed boolean,
    OUT o_overage_price bigint,
    OUT o_spend_cap bigint
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k cynco_apikey%ROWTYPE;
    b billing_balance%ROWTYPE;
    v_customer text;
    v_feature text;
    v_feature_type text;
    v_at timestamptz := p_wall;
    v_usage numeric;
    v_amount numeric;
    v_level smallint;
    v_cost numeric;
BEGIN
    o_outcome := 'fallback';
    -- The key: unknown, revoked, due for its lastUsedAt stamp, or lacking the permission are
    -- all left to the full path, which answers them.
    SELECT * INTO k FROM cynco_apikey WHERE key_hash = p_key_hash;
    IF NOT FOUND OR k.revoked_at IS NOT NULL OR k.last_used_at IS NULL
            OR k.last_used_at <= p_stale_before THEN
        RETURN;
    END IF;
    IF k.type <> 'secret' AND (p_mode = 'check' OR (p_mode = 'track' AND NOT coalesce(
            jsonb_typeof(k.scopes) = 'array' AND k.scopes @> '["track"]'::jsonb, false))) THEN
        RETURN;
    END IF;

    SELECT c.id INTO v_customer FROM billing_customer c
    WHERE c.merchant_id = k.merchant_id AND c.environment = k.environment
      AND c.external_id = p_customer AND c.deleted_at IS NULL
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT f.id, f.type INTO v_feature, v_feature_type FROM billing_feature f
    WHERE f.merchant_id = k.merchant_id AND f.environment = k.environment AND f.slug = p_feature;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    o_boolean := v_feature_type = 'boolean';
    IF o_boolean AND p_mode <> 'peek' THEN
        RETURN;
    END IF;
    IF k.environment = 'test' THEN
        v_at := p_wall + coalesce((
            SELECT e.offset_seconds FROM cynco_environmentclock e
            WHERE e.merchant_id = k.merchant_id AND e.environment = k.environment), 0)
            * interval '1 second';
    END IF;

    IF p_mode = 'peek' THEN
        SELECT * INTO b FROM billing_balance x
        WHERE x.customer_id = v_customer AND x.feature_id = v_feature
          AND x.entity_key IN ('', p_entity_key)
        ORDER BY x.entity_key DESC
        LIMIT 1;
        o_has_balance := FOUND;
        -- A period that ended or a reservation that expired is settled by the full path.
        IF FOUND AND NOT o_boolean AND ((b.period_end IS NOT NULL AND b.period_end <= v_at)
                OR (b.next_lock_expiry IS NOT NULL AND b.next_lock_expiry <= v_at)) THEN
            RETURN;
        END IF;
        o_outcome := 'standing';
        o_granted := b.granted;
        o_used := b.used;
        o_reserved := b.reserved;
        o_unlimited := b.unlimited;
        o_overage_allowed := b.overage_allowed;
        o_overage_price := b.overage_price;
        o_spend_cap := b.spend_cap;
        RETURN;
    END IF;

    -- cynco.locks.lock_customer, then every statement below sees what the previous
    -- holder committed (a volatile function takes a fresh snapshot per statement).
    PERFORM set_config('lock_timeout', p_lock_wait, true);
    PERFORM pg_advisory_xact_lock(cynco_customer_lock_key(v_customer));
    PERFORM set_config('lock_timeout', '0', true);

    SELECT * INTO b FROM billing_balance x
    WHERE x.customer_id = v_customer AND x.feature_id = v_feature
      AND x.entity_key IN ('', p_entity_key)
    ORDER BY x.entity_key DESC
    LIMIT 1;
    o_has_balance := FOUND;
    -- No balance yet (the full path creates it), a period that ended or a reservation
    -- that expired (the full path settles them): fallback.
    IF NOT FOUND OR (b.period_end IS NOT NULL AND b.period_end <= v_at)
            OR (b.next_lock_expiry IS NOT NULL AND b.next_lock_expiry <= v_at) THEN
        RETURN;
    END IF;
    o_granted := b.granted;
    o_used := b.used;
    o_reserved := b.reserved;
    o_unlimited := b.unlimited;
    o_overage_allowed := b.overage_allowed;
    o_overage_price := b.overage_price;
    o_spend_cap := b.spend_cap;

    v_usage := b.used + b.reserved;
    -- Standing.overage_cost(p_amount): nothing without overage allowed at a price.
    v_cost := CASE WHEN b.overage_allowed AND coalesce(b.overage_price, 0) <> 0
                   THEN greatest(v_usage + p_amount - b.granted, 0) * b.overage_price
                   ELSE 0 END;
    IF p_mode = 'track' THEN
        IF p_idempotency_key IS NOT NULL AND EXISTS (
                SELECT 1 FROM billing_usageevent e
                WHERE e.customer_id = v_customer AND e.idempotency_key = p_idempotency_key)
                THEN
            o_outcome := 'duplicate';
            RETURN;
        END IF;
        -- Standing.cap_allows
        IF p_amount > 0 AND NOT b.unlimited AND b.spend_cap IS NOT NULL
                AND v_cost > b.spend_cap THEN
            o_outcome := 'capped';
            RETURN;
        END IF;
        -- A correction never takes usage below nothing used.
        v_amount := CASE WHEN p_amount >= 0 THEN p_amount
                         ELSE greatest(p_amount, -b.used) END;
    ELSE
        -- Standing.may_use
        IF NOT (b.unlimited OR b.granted - b.used - b.reserved >= p_amount
                OR (b.overage_allowed AND (b.spend_cap IS NULL OR v_cost <= b.spend_cap)))
                THEN
            o_outcome := 'denied';
            RETURN;
        END IF;
        v_amount := p_amount;
    END IF;

    -- threshold_level after the write; crossing a threshold emits a webhook event, which
    -- the full path does.
    v_usage := v_usage + v_amount;
    v_level := CASE WHEN b.unlimited OR b.granted <= 0 THEN 0
                    WHEN v_usage >= b.granted THEN 100
                    WHEN v_usage * 5 >= b.granted * 4 THEN 80
                    ELSE 0 END;
    IF v_level > b.threshold_sent THEN
        RETURN;
    END IF;
    UPDATE billing_balance
    SET used = used + v_amount, threshold_sent = v_level, updated_at = v_at
    WHERE id = b.id;
    INSERT INTO billing_usageevent (id, merchant_id, environment, customer_id,
        feature_id, entity_key, amount, source, idempotency_key, metadata, created_at)
    VALUES (p_event_id, k.merchant_id, k.environment, v_customer, v_feature,
        p_entity_key, v_amount, p_mode, p_idempotency_key, p_metadata, v_at);
    o_used := b.used + v_amount;
    o_outcome := 'recorded';
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS billing_usage_record(text, text, text, text, text, numeric, text, jsonb,
    text, timestamptz, timestamptz, text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_invoiceline_subscription"),
        ("cynco", "0002_customer_lock_key_function"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
