/** Test tenants' SDK keys. vitest.config.ts hashes them into SDK_KEYS for the test runtime. */
export const KEYS = {
  acme: "sk_test_acme_0123456789abcdefghijklmnopqrstuv",
  acmeRotated: "sk_test_acme_rotated_0123456789abcdefghijklmno",
  globex: "sk_test_globex_0123456789abcdefghijklmnopqrst",
  acmeReadOnly: "sk_test_acme_readonly_0123456789abcdefghijkl",
} as const;

/** Operators' admin keys; vitest.config.ts hashes them into ADMIN_KEYS (two: rotation). */
export const ADMIN_KEYS = {
  operator: "adm_test_operator_0123456789abcdefghijklmnopqrstuv",
  rotated: "adm_test_rotated_0123456789abcdefghijklmnopqrstuvw",
} as const;
