import { RequestModel } from '../../requestModel';
import type { JobsClient } from '../../common/jobs/client';
import type { INotifySettings } from '../../common/jobs/types';

/**
 * The user's notification settings as the platform keeps them: where the
 * end of a job is told (a webhook, an e-mail address) and which ends.
 *
 * Methods never reject; a refusal (a webhook or address the platform does
 * not take) is kept in `error`, and the settings stay as they were saved.
 */
export class NotificationsModel extends RequestModel {
  constructor(client: JobsClient) {
    super();
    this.client = client;
  }

  readonly client: JobsClient;

  /**
   * The saved settings, or `null` before they were read.
   */
  get settings(): INotifySettings | null {
    return this._settings;
  }

  get loaded(): boolean {
    return this._settings !== null;
  }

  /**
   * Whether the last save went through (cleared by the next request).
   */
  get saved(): boolean {
    return this._saved;
  }

  async refresh(): Promise<boolean> {
    this._saved = false;
    return this.run(async () => {
      this._settings = await this.client.notificationSettings();
    });
  }

  /**
   * Replace the settings; the platform checks the webhook and the address.
   */
  async save(settings: INotifySettings): Promise<boolean> {
    this._saved = false;
    const { webhook_url, email, events } = settings;
    const ok = await this.run(async () => {
      this._settings = await this.client.saveNotificationSettings({
        webhook_url: webhook_url.trim(),
        email: email.trim(),
        events
      });
    });
    if (ok) {
      this._saved = true;
      this.emitChanged();
    }
    return ok;
  }

  private _saved = false;
  private _settings: INotifySettings | null = null;
}
