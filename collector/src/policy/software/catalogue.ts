/** The catalogue types this module evaluates: the zod schema's types from `@vigil/shared`. */
export type { CatalogueStatus, CatalogueTitle, SoftwareCatalogue, SoftwareMatch } from '@vigil/shared/policy';
