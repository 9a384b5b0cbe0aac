-- The rate at which a tenant may submit new work (queue messages, run starts), per tenant (decision 027); NULL keeps the default.
ALTER TABLE tenant_limits ADD COLUMN new_work_per_second BIGINT;
ALTER TABLE tenant_limits ADD COLUMN new_work_burst BIGINT;
