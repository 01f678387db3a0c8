// Entry point of @crmkit/core/reports: funnel, velocity, forecast, performance and customer reports as an opt-in crm feature.
export { reports, type ReportsFeature } from './reports-feature.js';
export type { ReportService } from './report-service.js';
export type { FunnelReport, FunnelReportOptions, FunnelStage } from './funnel-report.js';
export type { VelocityReport, VelocityOptions, VelocityRow } from './velocity-report.js';
export type { ForecastReport, ForecastOptions, ForecastMonth, ForecastAmount } from './forecast-report.js';
export type { PerformanceReport, PerformanceOptions, OwnerPerformance } from './performance-report.js';
export type { CustomerReport, CustomerReportOptions, CustomerValue } from './customer-report.js';
export type { DrillDown, CurrencyAmount, TabularReport } from './report-types.js';
export { toCsv, type ReportRow, type CsvOptions } from '../domain/analytics/csv.js';
export { convertMinor, type ExchangeRates } from '../domain/analytics/currency.js';
export { minorUnitExponent, isIsoCurrency } from '../domain/iso-4217.js';
