import { z } from 'zod';
import { CatalogueTitle } from '../policy/software-catalogue.js';

/**
 * The Software page: every title across the fleet (a catalogue title groups every item it matches;
 * an item no title matches is listed by `<source>:<name>`) with its installs and where it stands.
 */

/** Where a title stands: the catalogue's statuses, `unapproved`, or `os-vendor` (approved as the OS vendor's own package). */
export const SoftwareTitleStatus = z.enum(['approved', 'licensed', 'prohibited', 'unapproved', 'os-vendor']);
export type SoftwareTitleStatus = z.infer<typeof SoftwareTitleStatus>;

/** Most rows a page of the Software list holds. */
export const SOFTWARE_PAGE_MAX = 200;

export const SoftwareListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(SOFTWARE_PAGE_MAX).default(50),
  /** Opaque (the position in the sorted list). */
  cursor: z.string().max(32).optional(),
  /** Case-insensitive substring of the title or `<source>:<name>`. */
  q: z.string().trim().max(200).optional(),
  status: SoftwareTitleStatus.optional(),
  /** `installs`: most installed first (the default); `name`: A to Z. */
  sort: z.enum(['installs', 'name']).default('installs'),
});
export type SoftwareListQuery = z.infer<typeof SoftwareListQuery>;

export const SoftwareTitleRow = z.object({
  /** The catalogue title, or `<source>:<name>` for packages no title covers. */
  name: z.string(),
  kind: z.enum(['title', 'package']),
  status: SoftwareTitleStatus,
  /** Package installs on hosts not retired: each host counts once per package (name + architecture) it has. */
  installs: z.number().int(),
  /** Distinct packages behind the row (versions, architectures, names a title's globs match). */
  packages: z.number().int(),
  /** Licensed titles: licences owned, hosts holding a seat (one per host), and how many hosts too many. */
  seats: z.number().int().nullable(),
  licensedHosts: z.number().int().nullable(),
  overBy: z.number().int().nullable(),
  /** The catalogue title as the policy in force defines it (null for packages). */
  definition: CatalogueTitle.nullable(),
});
export type SoftwareTitleRow = z.infer<typeof SoftwareTitleRow>;

export const SoftwareList = z.object({
  items: z.array(SoftwareTitleRow),
  nextCursor: z.string().nullable(),
  /** Rows matching the query, over every page. */
  total: z.number().int(),
  /** The policy version the statuses belong to. */
  policyVersion: z.number().int(),
  /**
   * Hosts still waiting to be judged again after a policy change: statuses and installs are right
   * at once, seats held (`licensedHosts`) follow as each host is judged.
   */
  judging: z.number().int(),
});
export type SoftwareList = z.infer<typeof SoftwareList>;

/** `GET /api/v1/software/hosts`: the hosts that have one row of the list (`name` + `status`). */
export const SoftwareHostsQuery = z.object({
  name: z.string().min(1).max(400),
  status: SoftwareTitleStatus,
  limit: z.coerce.number().int().min(1).max(SOFTWARE_PAGE_MAX).default(50),
  cursor: z.string().max(64).optional(),
});
export type SoftwareHostsQuery = z.infer<typeof SoftwareHostsQuery>;

export const SoftwareHosts = z.object({
  items: z.array(z.object({ id: z.string(), hostname: z.string() })),
  /**
   * Not null while hosts remain to look at. Hosts of a licensed title come from the seat index;
   * for other rows each page reads a bounded slice of the fleet's inventories, so a page may
   * hold fewer hosts than `limit` (even none) and still have a next one.
   */
  nextCursor: z.string().nullable(),
});
export type SoftwareHosts = z.infer<typeof SoftwareHosts>;

/**
 * A catalogue title as the Software page's form sends it. Only its shape is checked here; what
 * makes it valid (non-empty globs, seats for licensed titles only, a version range that parses,
 * a unique title) is the policy document's schema, and a title that breaks it is refused as a
 * policy would be (422 `VIGIL_ERR_POLICY_INVALID`, every problem with its path).
 */
const patterns = z.union([z.string().max(1024), z.array(z.string().max(1024)).max(64)]);
export const CatalogueTitleInput = z.strictObject({
  title: z.string().max(1024),
  match: z.strictObject({ name: patterns.optional(), publisher: patterns.optional(), source: z.array(z.string().max(32)).max(8).optional() }),
  versions: z.string().max(1024).optional(),
  status: z.string().max(32),
  seats: z.number().optional(),
  note: z.string().max(4096).optional(),
});
export type CatalogueTitleInput = z.infer<typeof CatalogueTitleInput>;

export const CatalogueTitleBody = z.strictObject({ title: CatalogueTitleInput });
export type CatalogueTitleBody = z.infer<typeof CatalogueTitleBody>;

/** `PUT|DELETE /api/v1/software/catalogue/:title`: the title as it is now (case-insensitive). */
export const CatalogueTitleParams = z.object({ title: z.string().min(1).max(1024) });
export type CatalogueTitleParams = z.infer<typeof CatalogueTitleParams>;
