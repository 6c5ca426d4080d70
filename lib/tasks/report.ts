// How a JS task tells a host that its promise rejected after Run returned. Windows has no channel
// for that (Run's HRESULT is already returned, and a deferral only completes), so the task
// runtime asks the IBackgroundTaskInstance for this winbg interface: the portable host implements
// it and reports the failure through Completed/CheckResult; Windows' instance does not, and the
// failure stays with the task's onRunEnded watchers.
import { defineInterface, type ComInterface } from '../com/interface.js';
import { IUnknown } from '../com/unknown.js';

export interface RunReportMethods {
  ReportFailure(hresult: number, message: string): void;
}

export const IWinbgRunReport: ComInterface<RunReportMethods> = defineInterface<RunReportMethods>({
  name: 'IWinbgRunReport',
  iid: 'B7A1C2D3-4E5F-4A6B-9C8D-0E1F2A3B4C5D',
  base: IUnknown,
  methods: { ReportFailure: 'HRESULT (HRESULT code, HSTRING message)' },
});
