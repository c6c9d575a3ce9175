import type { ModelName } from '../schemas/account.ts';
import { cashModel } from './cash.ts';
import { grossModel } from './gross.ts';
import type { MarginModel } from './model.ts';
import { portfolioModel } from './portfolio.ts';
import { regTModel } from './reg-t.ts';
import { tieredModel } from './tiered.ts';

export const MODELS: Record<ModelName, MarginModel<never>> = {
  gross: grossModel as MarginModel<never>,
  'reg-t': regTModel as MarginModel<never>,
  cash: cashModel as MarginModel<never>,
  tiered: tieredModel as MarginModel<never>,
  portfolio: portfolioModel as MarginModel<never>,
};
