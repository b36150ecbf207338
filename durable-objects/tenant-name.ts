// Virtual cluster (tenant) names: lowercase, start with a letter, letters/digits/hyphens, at most
// 63 characters so a name is always a valid DNS label (it appears as the Host label TENANT.…).

export const TENANT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

export function isTenantName(text: string): boolean {
  return TENANT_NAME_PATTERN.test(text);
}
