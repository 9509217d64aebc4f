-- Apply re-run attribution (inv_attr) to every invocation whose LOB, app or rule changed.
UPDATE invocations AS i
SET lob = a.lob, app = a.app, attribution_rule = a.rule, principal_arn = a.principal_arn
FROM inv_attr AS a
WHERE a.attr_key = hash(i.account_id, i.identity_arn, i.model_id,
                        gl_md_project(i.request_metadata, $md_keys))
  AND (i.lob IS DISTINCT FROM a.lob OR i.app IS DISTINCT FROM a.app
       OR i.attribution_rule IS DISTINCT FROM a.rule);
