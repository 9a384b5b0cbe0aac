-- Billing contacts: the addresses spending alerts go to (several per tenant; none means the owners and admins).
CREATE TABLE billing_contacts (
  tenant_id TEXT NOT NULL,
  email TEXT NOT NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, email)
);

-- The one alert address a cap had becomes the tenant's first contact.
INSERT INTO billing_contacts (tenant_id, email, added_at)
SELECT tenant_id, alert_email, updated_at FROM tenant_billing WHERE alert_email IS NOT NULL;

ALTER TABLE tenant_billing DROP COLUMN alert_email;
