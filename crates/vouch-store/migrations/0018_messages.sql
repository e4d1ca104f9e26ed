-- A delivery may carry a message to a person (a one-time code, a link) to the operator's message relay instead of
-- an event to an integrator's webhook. Its body is then sealed with the data key (it holds a code and a contact),
-- and emptied once the relay has taken it.
ALTER TABLE webhook_deliveries ADD COLUMN message INTEGER NOT NULL DEFAULT 0 CHECK (message IN (0, 1));
