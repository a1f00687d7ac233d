/** An error as a sentence the user can act on (see describeError). */
import { describeError } from '../gateway/errors.ts';

export const ErrorMessage = ({ error, prefix }: { error: unknown; prefix?: string }) =>
  error ? (
    <p className="notice error" role="alert" data-testid="error">
      {prefix ? `${prefix} ` : ''}
      {describeError(error)}
    </p>
  ) : null;
