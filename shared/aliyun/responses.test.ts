import { describe, expect, it } from 'vitest'
import {
  QueryDsRecordResponseSchema,
  QueryTaskDetailListResponseSchema,
  SubmitTaskResponseSchema,
} from './responses.ts'

describe('response schemas are defensive', () => {
  it('accept Data.TaskDetail as a single object with numbers as strings', () => {
    const parsed = QueryTaskDetailListResponseSchema.parse({
      RequestId: 'r',
      TotalItemNum: '1',
      CurrentPageNum: '1',
      TotalPageNum: '1',
      NextPage: 'false',
      Data: {
        TaskDetail: {
          TaskNo: 't',
          DomainName: 'Example.COM',
          TaskStatusCode: '2',
          TaskResult: 1,
          TryCount: '3',
        },
      },
    })
    expect(parsed.details).toEqual([
      expect.objectContaining({
        domainName: 'example.com',
        status: 'EXECUTE_SUCCESS',
        tryCount: 3,
        taskResult: '1',
      }),
    ])
    expect(parsed.hasNextPage).toBe(false)
  })

  it('accept an empty Data and a status given by name', () => {
    expect(QueryTaskDetailListResponseSchema.parse({ Data: {} }).details).toEqual([])
    const parsed = QueryTaskDetailListResponseSchema.parse({
      Data: { TaskDetail: [{ TaskNo: 't', TaskStatus: 'EXECUTE_FAILURE', ErrorMsg: 'no' }] },
    })
    expect(parsed.details[0]).toMatchObject({ status: 'EXECUTE_FAILURE', errorMessage: 'no' })
  })

  it('accept lower-case submit keys as in some published samples, and refuse a missing TaskNo', () => {
    expect(SubmitTaskResponseSchema.parse({ requestId: 'r', taskNo: 't' })).toEqual({
      requestId: 'r',
      taskNo: 't',
    })
    expect(SubmitTaskResponseSchema.safeParse({ RequestId: 'r' }).success).toBe(false)
  })

  it('accept DS records with string numbers', () => {
    expect(
      QueryDsRecordResponseSchema.parse({
        DSRecordList: [{ KeyTag: '1', Algorithm: '13', DigestType: '2', Digest: 'AB' }],
      }).records,
    ).toEqual([{ keyTag: 1, algorithm: 13, digestType: 2, digest: 'ab' }])
  })
})
