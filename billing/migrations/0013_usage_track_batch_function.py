"""`billing_usage_track_batch(...)`: track's rules for a batch of events, set-based; the
one-statement track (`billing_usage_record` in mode 'track') becomes a batch of one.

Called by billing.services.usage_batch (POST /track/batch) and by `billing_usage_record`, so the
rules of a track written in SQL live here only: the idempotency key once per customer, the spend
cap (Standing.cap_allows), a correction never below nothing used, and threshold_level. What the
function leaves to the full path (billing.services.usage.usage_track) it answers `fallback`: no
balance yet, a period that ended or a reservation that expired (to settle), a threshold crossed
(a webhook event to emit). The customer's later events in the batch then answer `pending`, so
that the caller runs them after the full path, in their order.

The overage cost and the threshold level are small SQL functions shared with check's branch of
`billing_usage_record`.
"""

from importlib import import_module

from django.db import migrations

# The version before: its own copy of track's rules.
RECORD_BEFORE = import_module("billing.migrations.0009_usage_record_function").CREATE

RULES = r"""
-- Standing.overage_cost: nothing without overage allowed at a price.
CREATE OR REPLACE FUNCTION billing_overage_cost(
    p_usage numeric, p_granted numeric, p_overage_allowed boolean, p_overage_price bigint)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_overage_allowed AND coalesce(p_overage_price, 0) <> 0
                THEN greatest(p_usage - p_granted, 0) * p_overage_price
                ELSE 0 END
$$;

-- billing.entitlement_rules.threshold_level: 0, 80 or 100.
CREATE OR REPLACE FUNCTION billing_threshold_level(
    p_usage numeric, p_granted numeric, p_unlimited boolean)
RETURNS smallint LANGUAGE sql IMMUTABLE AS $$
    SELECT (CASE WHEN p_unlimited OR p_granted <= 0 THEN 0
                 WHEN p_usage >= p_granted THEN 100
                 WHEN p_usage * 5 >= p_granted * 4 THEN 80
                 ELSE 0 END)::smallint
$$;
"""

BATCH = r"""
CREATE OR REPLACE FUNCTION billing_usage_track_batch(
    p_merchant text,
    p_environment text,
    p_at timestamptz,           -- the environment's clock (test clocks included)
    p_customers text[],         -- per event: the customer's external id
    p_features text[],          -- the feature's slug
    p_entity_keys text[],       -- entityId, or ''
    p_amounts numeric[],        -- the amount (negative: a correction)
    p_idempotency_keys text[],  -- idempotencyKey, or null
    p_metadata jsonb[],         -- metadata, or null
    p_event_ids text[],         -- the id of the usage event a recorded event appends
    p_lock_wait text            -- lock_timeout while waiting for the customers' locks
)
RETURNS TABLE (
    o_index integer,            -- the event's position in the arrays, from 1
    o_outcome text,             -- recorded | duplicate | capped | fallback | pending
                                -- | no_customer | no_feature | boolean
    o_granted numeric,          -- the standing after the event (recorded) or at it
    o_used numeric,
    o_reserved numeric,
    o_unlimited boolean,
    o_overage_allowed boolean,
    o_overage_price bigint,
    o_spend_cap bigint
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n integer := coalesce(array_length(p_customers, 1), 0);
    r record;
    -- per event
    v_outcome text[] := array_fill(NULL::text, ARRAY[n]);
    v_recorded numeric[] := array_fill(NULL::numeric, ARRAY[n]);
    v_customer_ids text[] := array_fill(NULL::text, ARRAY[n]);
    v_feature_ids text[] := array_fill(NULL::text, ARRAY[n]);
    -- per balance (slot: dense rank of the balance's id) and per customer (of its id)
    v_balance_ids text[] := array_fill(NULL::text, ARRAY[n]);
    v_initial numeric[] := array_fill(NULL::numeric, ARRAY[n]);
    v_used numeric[] := array_fill(NULL::numeric, ARRAY[n]);
    v_level smallint[] := array_fill(NULL::smallint, ARRAY[n]);
    v_touched boolean[] := array_fill(false, ARRAY[n]);
    v_blocked boolean[] := array_fill(false, ARRAY[n]);
    v_before numeric;
    v_amount numeric;
    v_new_level smallint;
BEGIN
    -- cynco.locks.lock_customer for every customer of the batch, in the order of their lock
    -- keys: two batches (or a batch and single calls) never wait for each other in a cycle.
    PERFORM set_config('lock_timeout', p_lock_wait, true);
    PERFORM pg_advisory_xact_lock(l.k) FROM (
        SELECT DISTINCT cynco_customer_lock_key(c.id) AS k FROM billing_customer c
        WHERE c.merchant_id = p_merchant AND c.environment = p_environment
          AND c.external_id = ANY (p_customers) AND c.deleted_at IS NULL
        ORDER BY 1
    ) AS l;
    PERFORM set_config('lock_timeout', '0', true);

    -- Everything the rules need, read once under the locks (a fresh snapshot: this statement
    -- sees what the previous holders committed), in the batch's order.
    FOR r IN
        -- unnest, not p_customers[i]: subscripting an array of text walks it from the start.
        WITH event AS (
            SELECT * FROM unnest(p_customers, p_features, p_entity_keys, p_amounts,
                                 p_idempotency_keys) WITH ORDINALITY
                AS e(customer, feature, entity_key, amount, idempotency_key, idx)
        ), found AS (
            SELECT e.*, c.id AS customer_id, f.id AS feature_id, f.type AS feature_type
            FROM event e
            LEFT JOIN billing_customer c
              ON c.merchant_id = p_merchant AND c.environment = p_environment
             AND c.external_id = e.customer AND c.deleted_at IS NULL
            LEFT JOIN billing_feature f
              ON f.merchant_id = p_merchant AND f.environment = p_environment
             AND f.slug = e.feature
        )
        SELECT x.*, b.id AS balance_id, b.granted, b.used, b.reserved, b.unlimited,
               b.overage_allowed, b.overage_price, b.spend_cap, b.threshold_sent,
               (b.period_end IS NOT NULL AND b.period_end <= p_at)
                   OR (b.next_lock_expiry IS NOT NULL AND b.next_lock_expiry <= p_at)
                   AS unsettled,
               dense_rank() OVER (ORDER BY x.customer_id) AS customer_slot,
               dense_rank() OVER (ORDER BY b.id) AS balance_slot,
               x.idempotency_key IS NOT NULL AND x.customer_id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM billing_usageevent u
                   WHERE u.customer_id = x.customer_id
                     AND u.idempotency_key = x.idempotency_key) AS key_taken,
               CASE WHEN x.idempotency_key IS NOT NULL THEN lag(x.idx) OVER (
                   PARTITION BY x.customer_id, x.idempotency_key ORDER BY x.idx) END
                   AS key_before
        FROM found x
        LEFT JOIN LATERAL (
            SELECT * FROM billing_balance y
            WHERE y.customer_id = x.customer_id AND y.feature_id = x.feature_id
              AND y.entity_key IN ('', x.entity_key)
            ORDER BY y.entity_key DESC
            LIMIT 1
        ) b ON TRUE
        ORDER BY x.idx
    LOOP
        o_index := r.idx;
        o_granted := NULL; o_used := NULL; o_reserved := NULL; o_unlimited := NULL;
        o_overage_allowed := NULL; o_overage_price := NULL; o_spend_cap := NULL;
        IF r.customer_id IS NULL THEN
            o_outcome := 'no_customer';
        ELSIF r.feature_id IS NULL THEN
            o_outcome := 'no_feature';
        ELSIF r.feature_type = 'boolean' THEN
            o_outcome := 'boolean';
        ELSIF v_blocked[r.customer_slot] THEN
            o_outcome := 'pending';  -- after an earlier event of its customer went the full path
        ELSIF r.balance_id IS NULL OR r.unsettled THEN
            o_outcome := 'fallback';
            v_blocked[r.customer_slot] := true;
        ELSE
            IF v_used[r.balance_slot] IS NULL THEN
                v_balance_ids[r.balance_slot] := r.balance_id;
                v_initial[r.balance_slot] := r.used;
                v_used[r.balance_slot] := r.used;
                v_level[r.balance_slot] := r.threshold_sent;
            END IF;
            v_before := v_used[r.balance_slot];
            o_granted := r.granted; o_used := v_before; o_reserved := r.reserved;
            o_unlimited := r.unlimited; o_overage_allowed := r.overage_allowed;
            o_overage_price := r.overage_price; o_spend_cap := r.spend_cap;
            -- Taken: recorded before the batch, or by an earlier event of it.
            IF r.idempotency_key IS NOT NULL AND (r.key_taken OR (r.key_before IS NOT NULL
                    AND v_outcome[r.key_before] IN ('recorded', 'duplicate'))) THEN
                o_outcome := 'duplicate';
            -- Standing.cap_allows
            ELSIF r.amount > 0 AND NOT r.unlimited AND r.spend_cap IS NOT NULL
                    AND billing_overage_cost(v_before + r.reserved + r.amount, r.granted,
                        r.overage_allowed, r.overage_price) > r.spend_cap THEN
                o_outcome := 'capped';
            ELSE
                -- A correction never takes usage below nothing used.
                v_amount := CASE WHEN r.amount >= 0 THEN r.amount
                                 ELSE greatest(r.amount, -v_before) END;
                v_new_level := billing_threshold_level(v_before + v_amount + r.reserved,
                                                       r.granted, r.unlimited);
                IF v_new_level > v_level[r.balance_slot] THEN
                    -- A threshold crossed: the full path emits its webhook event.
                    o_outcome := 'fallback';
                    v_blocked[r.customer_slot] := true;
                ELSE
                    o_outcome := 'recorded';
                    o_used := v_before + v_amount;
                    v_used[r.balance_slot] := o_used;
                    v_level[r.balance_slot] := v_new_level;
                    v_touched[r.balance_slot] := true;
                    v_recorded[r.idx] := v_amount;
                    v_customer_ids[r.idx] := r.customer_id;
                    v_feature_ids[r.idx] := r.feature_id;
                END IF;
            END IF;
        END IF;
        v_outcome[r.idx] := o_outcome;
        RETURN NEXT;
    END LOOP;

    -- The writes: one update of the balances touched, one insert of the events recorded.
    UPDATE billing_balance b
    SET used = b.used + (s.used - s.initial), threshold_sent = s.level, updated_at = p_at
    FROM unnest(v_balance_ids, v_initial, v_used, v_level, v_touched)
         AS s(id, initial, used, level, touched)
    WHERE s.touched AND b.id = s.id;
    INSERT INTO billing_usageevent (id, merchant_id, environment, customer_id, feature_id,
        entity_key, amount, source, idempotency_key, metadata, created_at)
    SELECT e.id, p_merchant, p_environment, e.customer_id, e.feature_id, e.entity_key,
           e.amount, 'track', e.idempotency_key, e.metadata, p_at
    FROM unnest(v_recorded, v_customer_ids, v_feature_ids, p_event_ids, p_entity_keys,
                p_idempotency_keys, p_metadata) WITH ORDINALITY
         AS e(amount, customer_id, feature_id, id, entity_key, idempotency_key, metadata, i)
    WHERE e.amount IS NOT NULL
    ORDER BY e.i;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS billing_usage_track_batch(text, text, timestamptz, text[], text[],
    text[], numeric[], text[], jsonb[], text[], text);
DROP FUNCTION IF EXISTS billing_threshold_level(numeric, numeric, boolean);
DROP FUNCTION IF EXISTS billing_overage_cost(numeric, numeric, boolean, bigint);
"""

RECORD = r"""
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
    v_amount numeric;
    v_level smallint;
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

    -- track: a batch of one, by the rules of billing_usage_track_batch (migration 0012).
    IF p_mode = 'track' THEN
        SELECT t.o_outcome, t.o_granted, t.o_used, t.o_reserved, t.o_unlimited,
               t.o_overage_allowed, t.o_overage_price, t.o_spend_cap
        INTO o_outcome, o_granted, o_used, o_reserved, o_unlimited, o_overage_allowed,
             o_overage_price, o_spend_cap
        FROM billing_usage_track_batch(k.merchant_id, k.environment, v_at,
            ARRAY[p_customer], ARRAY[p_feature], ARRAY[p_entity_key], ARRAY[p_amount],
            ARRAY[p_idempotency_key], ARRAY[p_metadata], ARRAY[p_event_id], p_lock_wait) AS t;
        o_has_balance := o_outcome IN ('recorded', 'duplicate', 'capped');
        IF NOT o_has_balance THEN
            o_outcome := 'fallback';
        END IF;
        RETURN;
    END IF;

    -- check with sendEvent: cynco.locks.lock_customer, then every statement below sees what
    -- the previous holder committed (a volatile function takes a fresh snapshot per statement).
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

    -- Standing.may_use
    IF NOT (b.unlimited OR b.granted - b.used - b.reserved >= p_amount
            OR (b.overage_allowed AND (b.spend_cap IS NULL OR billing_overage_cost(
                b.used + b.reserved + p_amount, b.granted, b.overage_allowed,
                b.overage_price) <= b.spend_cap))) THEN
        o_outcome := 'denied';
        RETURN;
    END IF;
    v_amount := p_amount;

    -- Crossing a threshold emits a webhook event, which the full path does.
    v_level := billing_threshold_level(b.used + b.reserved + v_amount, b.granted, b.unlimited);
    IF v_level > b.threshold_sent THEN
        RETURN;
    END IF;
    UPDATE billing_balance
    SET used = used + v_amount, threshold_sent = v_level, updated_at = v_at
    WHERE id = b.id;
    INSERT INTO billing_usageevent (id, merchant_id, environment, customer_id,
        feature_id, entity_key, amount, source, idempotency_key, metadata, created_at)
    VALUES (p_event_id, k.merchant_id, k.environment, v_customer, v_feature,
        p_entity_key, v_amount, 'check', NULL, NULL, v_at);
    o_used := b.used + v_amount;
    o_outcome := 'recorded';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0012_unapplied_payments_and_checkout_claims"),
    ]

    operations = [migrations.RunSQL(RULES + BATCH + RECORD, RECORD_BEFORE + DROP)]
