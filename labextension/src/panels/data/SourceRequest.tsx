import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { formatTime } from '../../common/format';
import type { ISource } from './sourcesClient';
import type { SourcesModel } from './sourcesModel';

/**
 * Asking the owner of a source the person may not read for access.
 */
export function RequestAccess(props: {
  model: SourcesModel;
  source: ISource;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, source, trans } = props;
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [access, setAccess] = useState<'read' | 'write'>('read');
  const pending = model.pendingRequest(source);
  if (pending !== null) {
    return (
      <p className="jp-Labworks-hint" data-testid="labworks-source-pending">
        {trans.__(
          'You asked %1 for %2 access on %3; the request is pending.',
          source.owner,
          pending.access,
          formatTime(pending.created_at)
        )}
      </p>
    );
  }
  return (
    <div className="jp-Labworks-sourceRequest">
      <p className="jp-Labworks-hint">
        {trans.__(
          'You may not read %1. Its owner, %2, can grant you access.',
          source.name,
          source.owner
        )}
      </p>
      {!open ? (
        <Button
          className="jp-Labworks-button"
          small
          data-testid="labworks-source-request"
          onClick={() => setOpen(true)}
        >
          {trans.__('Request access')}
        </Button>
      ) : (
        <form
          role="dialog"
          aria-label={trans.__('Request access to %1', source.name)}
          className="jp-Labworks-sourceForm"
          onSubmit={e => {
            e.preventDefault();
            void model
              .requestAccess(source, reason.trim(), access)
              .then(ok => ok && setOpen(false));
          }}
        >
          <label>
            {trans.__('Why you need it')}
            <textarea
              className="jp-mod-styled"
              data-testid="labworks-source-request-reason"
              value={reason}
              onChange={e => setReason(e.target.value)}
            />
          </label>
          <label>
            {trans.__('Access')}
            <select
              className="jp-mod-styled"
              data-testid="labworks-source-request-access"
              value={access}
              onChange={e => setAccess(e.target.value as 'read' | 'write')}
            >
              <option value="read">{trans.__('read')}</option>
              <option value="write">{trans.__('read and write')}</option>
            </select>
          </label>
          <div className="jp-Labworks-datasetCopyRow">
            <Button
              className="jp-Labworks-button"
              small
              type="submit"
              disabled={model.busy || reason.trim() === ''}
              data-testid="labworks-source-request-send"
            >
              {trans.__('Send request')}
            </Button>
            <Button
              className="jp-Labworks-button"
              small
              minimal
              onClick={() => setOpen(false)}
            >
              {trans.__('Cancel')}
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}
