/**
 * Software rules: the catalogue's matching (globs, per-source version ranges, the OS vendor
 * default), classification of installed items, licence seat counting and the findings the alert
 * engine turns into `software.prohibited`, `software.unapproved` and `licence.over_deployed`.
 * Pure: no I/O, no clock.
 */
export type { CatalogueStatus, CatalogueTitle, SoftwareCatalogue, SoftwareMatch } from './catalogue.js';
export { GLOB_MAX_LENGTH, compileGlob, compileGlobs, type GlobMatcher } from './glob.js';
export { comparatorFor, dpkgCompare, genericCompare, rpmCompare, rpmvercmp, type VersionComparator } from './version-compare.js';
export {
  VersionRangeError,
  compileVersionRange,
  parseVersionRange,
  satisfies,
  type RangeComparator,
  type RangeOperator,
  type VersionRange,
} from './version-range.js';
export { isDebianOrUbuntuMaintainer, osVendorOf } from './os-vendor.js';
export { classifySoftware, versionsOf, type SoftwareClassification, type SoftwareStatus } from './classify.js';
export { licenceUsage, type HostSoftware, type LicenceUsage } from './licence-usage.js';
export { licenceFindings, softwareFindings, softwareSubject, type FindingItem, type LicenceFinding, type SoftwareFinding } from './findings.js';
