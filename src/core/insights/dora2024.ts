/**
 * The software delivery performance clusters of one DORA survey year, as data. The clusters are
 * groups that emerged from that year's answers, not thresholds: a band read from them is
 * indicative. The ranges below restate the table's words as numbers; the words are kept beside
 * them so the summary quotes the report.
 *
 * Source: DORA, "Accelerate State of DevOps Report 2024" (Google Cloud), section "Software
 * delivery performance", table of performance clusters. https://dora.dev/research/2024/dora-report/
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;

export type ClusterName = "Elite" | "High" | "Medium" | "Low";

/** A value range, `min` inclusive, `max` exclusive; a single typical value has `min` equal to `max`. */
export interface ClusterRange {
  min: number;
  max: number;
  /** The report's words for it. */
  text: string;
}

export interface ClusterTable {
  year: number;
  source: string;
  url: string;
  clusters: {
    name: ClusterName;
    /** Deploys per day. */
    deploymentFrequency: ClusterRange;
    /** Change lead time, ms. */
    leadTime: ClusterRange;
    /** Change failure rate, 0..1: the report gives one typical value per cluster. */
    changeFailureRate: ClusterRange;
    /** Failed deployment recovery time, ms. */
    recoveryTime: ClusterRange;
  }[];
}

export const DORA_2024: ClusterTable = {
  year: 2024,
  source: "DORA, Accelerate State of DevOps Report 2024, software delivery performance clusters",
  url: "https://dora.dev/research/2024/dora-report/",
  clusters: [
    {
      name: "Elite",
      deploymentFrequency: {
        min: 1,
        max: Number.POSITIVE_INFINITY,
        text: "On demand (multiple deploys per day)",
      },
      leadTime: { min: 0, max: DAY, text: "Less than one day" },
      changeFailureRate: { min: 0.05, max: 0.05, text: "5%" },
      recoveryTime: { min: 0, max: HOUR, text: "Less than one hour" },
    },
    {
      name: "High",
      deploymentFrequency: {
        min: 1 / 7,
        max: 1,
        text: "Between once per day and once per week",
      },
      leadTime: { min: DAY, max: WEEK, text: "Between one day and one week" },
      changeFailureRate: { min: 0.2, max: 0.2, text: "20%" },
      recoveryTime: { min: 0, max: DAY, text: "Less than one day" },
    },
    {
      name: "Medium",
      deploymentFrequency: {
        min: 1 / 30,
        max: 1 / 7,
        text: "Between once per week and once per month",
      },
      leadTime: { min: WEEK, max: MONTH, text: "Between one week and one month" },
      changeFailureRate: { min: 0.1, max: 0.1, text: "10%" },
      recoveryTime: { min: 0, max: DAY, text: "Less than one day" },
    },
    {
      name: "Low",
      deploymentFrequency: {
        min: 1 / 182,
        max: 1 / 30,
        text: "Between once per month and once every six months",
      },
      leadTime: { min: MONTH, max: 6 * MONTH, text: "Between one month and six months" },
      changeFailureRate: { min: 0.4, max: 0.4, text: "40%" },
      recoveryTime: { min: WEEK, max: MONTH, text: "Between one week and one month" },
    },
  ],
};
