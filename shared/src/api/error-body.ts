import { z } from 'zod';

/** Every REST error: `{"error": {"code": "VIGIL_ERR_…", "message": …}}`. */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.string().regex(/^VIGIL_ERR_[A-Z0-9_]+$/),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
